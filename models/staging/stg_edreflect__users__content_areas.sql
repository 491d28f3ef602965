{{ edreflect_stage('users__content_areas') }}
