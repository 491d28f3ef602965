{{ edreflect_stage('users__sub_orgs') }}
