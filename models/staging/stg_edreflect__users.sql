{{ edreflect_stage('users') }}
