{{ edreflect_stage('assignments__learners') }}
