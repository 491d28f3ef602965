{{ edreflect_stage('users__grades') }}
