{{ edreflect_stage('eoy_classifications') }}
