{{ edreflect_stage('evidences__indicators') }}
