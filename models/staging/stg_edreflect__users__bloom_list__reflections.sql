{{ edreflect_stage('users__bloom_list__reflections') }}
