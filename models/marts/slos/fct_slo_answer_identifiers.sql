{#- One row per identifier (course, section, student group, grade level) in an SLO answer of type `identifier`. -#}

{{ root_array_items(
    source='stg_edreflect__slos__answers__identifiers',
    root='stg_edreflect__slos',
    root_id='slo_id',
    ids=[
        'source.identifier_id as slo_answer_identifier_id',
        'source.root_id as slo_id',
        'source.parent_id as slo_answer_id',
    ],
    properties=['source.identifier_type', 'source.identifier', 'source.label'],
) }}
