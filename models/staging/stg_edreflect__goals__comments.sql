{{ edreflect_stage('goals__comments') }}
