{#- One row per meeting note of an observation activity (`observations.activityMeetingNotes`). -#}

{{ root_array_items(
    source='stg_edreflect__observations__activity_meeting_notes',
    root='stg_edreflect__observations',
    root_id='observation_id',
    ids=[
        'source.activity_meeting_note_id as meeting_note_id',
        'source.root_id as observation_id',
        'source.activity_id',
        'source.author_id',
    ],
    properties=['source.title'],
    timestamps=['source.meeting_at', 'source.created_at'],
) }}
