{{ edreflect_stage('goals__comments__replies') }}
