{{ edreflect_stage('observations__read_only_observers') }}
