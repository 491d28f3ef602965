{{ edreflect_stage('goals__users') }}
