{#- One row per status change message of a work step. -#}

{{ root_array_items(
    source='stg_edreflect__observations__work__steps__status_messages',
    root='stg_edreflect__observations',
    root_id='observation_id',
    key='status_message_key',
    ids=[
        'source.root_id as observation_id',
        'source.parent_id as work_step_id',
        'source.created_by as created_by_user_id',
    ],
    properties=['source.status', 'source.message'],
    timestamps=['source.created_at'],
) }}
