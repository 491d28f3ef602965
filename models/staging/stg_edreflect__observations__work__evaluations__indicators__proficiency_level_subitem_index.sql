{{ edreflect_stage('observations__work__evaluations__indicators__proficiency_level_subitem_index') }}
