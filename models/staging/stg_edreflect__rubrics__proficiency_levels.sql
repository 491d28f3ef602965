{{ edreflect_stage('rubrics__proficiency_levels') }}
