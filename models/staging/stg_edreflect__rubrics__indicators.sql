{{ edreflect_stage('rubrics__indicators') }}
