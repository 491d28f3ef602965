{{ edreflect_stage('snapshots__indexes') }}
