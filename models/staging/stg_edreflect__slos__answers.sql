{{ edreflect_stage('slos__answers') }}
