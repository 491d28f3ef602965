{{ edreflect_stage('users__groups') }}
