{{ edreflect_stage('evidences') }}
