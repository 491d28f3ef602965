{{ edreflect_stage('slo_templates__sections') }}
