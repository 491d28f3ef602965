{{ edreflect_stage('observations__activity_meeting_notes') }}
