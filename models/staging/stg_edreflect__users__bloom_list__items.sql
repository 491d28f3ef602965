{{ edreflect_stage('users__bloom_list__items') }}
