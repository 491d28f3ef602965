{#- One row per snapshot taken at a work step. -#}

{{ root_array_items(
    source='stg_edreflect__observations__work__steps__snapshots',
    root='stg_edreflect__observations',
    root_id='observation_id',
    key='step_snapshot_key',
    ids=['source.root_id as observation_id', 'source.parent_id as work_step_id', 'source.value as snapshot_id'],
) }}
