{{ edreflect_stage('slos') }}
