{{ edreflect_stage('goals') }}
