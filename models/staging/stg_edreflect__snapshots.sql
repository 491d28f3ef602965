{{ edreflect_stage('snapshots') }}
