{#- One row per rating of an SLO assessment. -#}

{{ root_array_items(
    source='stg_edreflect__slos__answers__assessments__ratings',
    root='stg_edreflect__slos',
    root_id='slo_id',
    key='slo_assessment_rating_key',
    ids=['source.root_id as slo_id', 'source.parent_id as slo_assessment_id', 'source.rater_id'],
    properties=['source.rating', 'source.score', 'source.comment'],
    timestamps=['source.rated_at'],
) }}
