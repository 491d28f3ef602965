{{ edreflect_stage('assignments__learner_groups') }}
