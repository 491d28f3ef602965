{{ edreflect_stage('observations__work__steps__snapshots') }}
