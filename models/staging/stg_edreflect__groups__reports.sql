{{ edreflect_stage('groups__reports') }}
