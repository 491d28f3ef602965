{{ edreflect_stage('assignments__observers') }}
