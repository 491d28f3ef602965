{{ edreflect_stage('assignments__observer_groups') }}
