{{ edreflect_stage('ratings__rubric_ratings__indicators') }}
