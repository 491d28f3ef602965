{#- One row per step of an activity work (`observations.work.steps`). -#}

{{ root_array_items(
    source='stg_edreflect__observations__work__steps',
    root='stg_edreflect__observations',
    root_id='observation_id',
    ids=[
        'source.work_step_id',
        'source.root_id as observation_id',
        'source.parent_id as work_id',
        'source.step_id',
        'source.completed_by as completed_by_user_id',
    ],
    properties=['source.status'],
    timestamps=['source.started_at', 'source.completed_at'],
) }}
