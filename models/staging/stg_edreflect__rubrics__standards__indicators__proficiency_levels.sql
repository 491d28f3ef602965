{{ edreflect_stage('rubrics__standards__indicators__proficiency_levels') }}
