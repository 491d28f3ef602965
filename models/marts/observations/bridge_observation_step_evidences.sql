{#- One row per evidence attached to a work step. -#}

{{ root_array_items(
    source='stg_edreflect__observations__work__steps__evidences',
    root='stg_edreflect__observations',
    root_id='observation_id',
    key='step_evidence_key',
    ids=['source.root_id as observation_id', 'source.parent_id as work_step_id', 'source.value as evidence_id'],
) }}
