{{ edreflect_stage('groups__roles') }}
