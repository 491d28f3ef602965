{{ edreflect_stage('goals__posts__attachments') }}
