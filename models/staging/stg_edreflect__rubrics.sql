{{ edreflect_stage('rubrics') }}
