{{ edreflect_stage('observation_templates__learner_group_limits') }}
