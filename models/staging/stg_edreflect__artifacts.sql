{{ edreflect_stage('artifacts') }}
