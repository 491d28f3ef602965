{{ edreflect_stage('slos__answers__assessments') }}
