{#- One row per goal an evidence supports (`evidences.goals`). -#}

{{ root_array_items(
    source='stg_edreflect__evidences__goals',
    root='stg_edreflect__evidences',
    root_id='evidence_id',
    key='evidence_goal_key',
    ids=['source.root_id as evidence_id', 'source.value as goal_id'],
) }}
