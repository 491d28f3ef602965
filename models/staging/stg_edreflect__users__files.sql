{{ edreflect_stage('users__files') }}
