{{ edreflect_stage('observation_templates') }}
