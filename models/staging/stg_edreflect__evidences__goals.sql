{{ edreflect_stage('evidences__goals') }}
