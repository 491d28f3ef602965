{{ edreflect_stage('rubrics__standards') }}
