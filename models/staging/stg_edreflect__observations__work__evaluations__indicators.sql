{{ edreflect_stage('observations__work__evaluations__indicators') }}
