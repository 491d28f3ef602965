{#- One row per rubric indicator an activity is aligned to (`observationTemplates.activities.alignedIndicators`). -#}

{{ root_array_items(
    source='stg_edreflect__observation_templates__activities__aligned_indicators',
    root='stg_edreflect__observation_templates',
    root_id='observation_template_id',
    key='activity_indicator_key',
    ids=[
        'source.root_id as observation_template_id',
        'source.parent_id as activity_id',
        'source.rubric_id',
        'source.indicator_id',
    ],
) }}
