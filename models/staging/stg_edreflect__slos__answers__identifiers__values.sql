{{ edreflect_stage('slos__answers__identifiers__values') }}
