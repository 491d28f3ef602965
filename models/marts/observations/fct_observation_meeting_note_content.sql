{#- One row per content block of a meeting note (multi-line text or HTML). -#}

{{ root_array_items(
    source='stg_edreflect__observations__activity_meeting_notes__content',
    root='stg_edreflect__observations',
    root_id='observation_id',
    key='meeting_note_content_key',
    ids=['source.root_id as observation_id', 'source.parent_id as meeting_note_id'],
    properties=['source.heading', 'source.format', 'source.body'],
) }}
