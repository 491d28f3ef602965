{{ edreflect_stage('rubrics__indicators__indicators__indicators__indicators') }}
