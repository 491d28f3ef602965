{{ edreflect_stage('goals__posts') }}
