{{ edreflect_stage('ratings__rubric_ratings__indicators__proficiency_level_subitem_index') }}
