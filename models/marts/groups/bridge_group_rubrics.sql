{#- One row per rubric a group's members are evaluated on (`groups.rubrics`). -#}

{{ root_array_items(
    source='stg_edreflect__groups__rubrics',
    root='stg_edreflect__groups',
    root_id='group_id',
    key='group_rubric_key',
    ids=['source.root_id as group_id', 'source.value as rubric_id'],
) }}
