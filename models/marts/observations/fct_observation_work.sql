{#- One row per activity work of an observation (`observations.work`): who did the activity, when, signatures. -#}

{{ root_array_items(
    source='stg_edreflect__observations__work',
    root='stg_edreflect__observations',
    root_id='observation_id',
    ids=['source.work_id', 'source.root_id as observation_id', 'source.activity_id', 'source.observer_id'],
    properties=['source.status'],
    dates=['source.due_date'],
    timestamps=['source.started_at', 'source.completed_at', 'source.learner_signed_at', 'source.observer_signed_at'],
) }}
