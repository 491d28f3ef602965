{{ edreflect_stage('slo_templates__sections__elements__choices') }}
