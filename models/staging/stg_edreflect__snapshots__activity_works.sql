{{ edreflect_stage('snapshots__activity_works') }}
