{{ edreflect_stage('goals__aligned_indicators') }}
