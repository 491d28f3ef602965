{{ edreflect_stage('goals__questions') }}
