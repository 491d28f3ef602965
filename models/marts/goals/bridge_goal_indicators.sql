{#- One row per rubric indicator a goal is aligned to (`goals.alignedIndicators`). -#}

{{ root_array_items(
    source='stg_edreflect__goals__aligned_indicators',
    root='stg_edreflect__goals',
    root_id='goal_id',
    key='goal_indicator_key',
    ids=['source.root_id as goal_id', 'source.rubric_id', 'source.indicator_id'],
) }}
