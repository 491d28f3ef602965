{{ edreflect_stage('observations__work') }}
