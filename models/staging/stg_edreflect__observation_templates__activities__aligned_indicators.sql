{{ edreflect_stage('observation_templates__activities__aligned_indicators') }}
