{{ edreflect_stage('groups__rubrics') }}
