{#- One row per artifact attached to a work step. -#}

{{ root_array_items(
    source='stg_edreflect__observations__work__steps__artifacts',
    root='stg_edreflect__observations',
    root_id='observation_id',
    key='step_artifact_key',
    ids=['source.root_id as observation_id', 'source.parent_id as work_step_id', 'source.value as artifact_id'],
) }}
