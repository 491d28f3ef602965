{{ edreflect_stage('ratings') }}
