{#- One row per assessment in an SLO answer of type `assessment`. -#}

{{ root_array_items(
    source='stg_edreflect__slos__answers__assessments',
    root='stg_edreflect__slos',
    root_id='slo_id',
    ids=['source.assessment_id as slo_assessment_id', 'source.root_id as slo_id', 'source.parent_id as slo_answer_id'],
    properties=['source.name', 'source.type', 'source.max_score', 'source.student_count'],
    dates=['source.administered_on'],
) }}
