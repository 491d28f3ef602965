{{ edreflect_stage('observation_templates__observer_group_limits') }}
