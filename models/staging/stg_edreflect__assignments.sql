{{ edreflect_stage('assignments') }}
