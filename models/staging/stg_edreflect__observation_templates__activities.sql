{{ edreflect_stage('observation_templates__activities') }}
