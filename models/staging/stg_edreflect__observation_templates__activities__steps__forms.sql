{{ edreflect_stage('observation_templates__activities__steps__forms') }}
