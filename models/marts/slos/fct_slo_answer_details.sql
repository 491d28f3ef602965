{#- One row per detail (text or HTML content) of an SLO answer that is not an assessment or identifier. -#}

{{ root_array_items(
    source='stg_edreflect__slos__answers__details',
    root='stg_edreflect__slos',
    root_id='slo_id',
    ids=['source.detail_id as slo_answer_detail_id', 'source.root_id as slo_id', 'source.parent_id as slo_answer_id'],
    properties=['source.format', 'source.content'],
) }}
