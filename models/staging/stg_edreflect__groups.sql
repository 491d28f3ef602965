{{ edreflect_stage('groups') }}
