{#- One row per answer of an SLO to a template element; `type` says where the content is: `fct_slo_assessments`, `fct_slo_answer_identifiers` or `fct_slo_answer_details`. -#}

{{ root_array_items(
    source='stg_edreflect__slos__answers',
    root='stg_edreflect__slos',
    root_id='slo_id',
    ids=[
        'source.answer_id as slo_answer_id',
        'source.root_id as slo_id',
        'source.section_id as slo_section_id',
        'source.element_id as slo_element_id',
        'source.answered_by as answered_by_user_id',
    ],
    properties=['source.type'],
    timestamps=['source.answered_at'],
) }}
