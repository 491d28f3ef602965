{{ edreflect_stage('slo_templates') }}
