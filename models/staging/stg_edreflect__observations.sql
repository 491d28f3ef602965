{{ edreflect_stage('observations') }}
