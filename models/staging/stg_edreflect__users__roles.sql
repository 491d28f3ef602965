{{ edreflect_stage('users__roles') }}
