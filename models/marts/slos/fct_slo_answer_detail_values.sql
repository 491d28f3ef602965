{#- One row per value chosen in a multi-choice SLO answer detail. -#}

{{ root_array_items(
    source='stg_edreflect__slos__answers__details__values',
    root='stg_edreflect__slos',
    root_id='slo_id',
    key='slo_detail_value_key',
    ids=['source.root_id as slo_id', 'source.parent_id as slo_answer_detail_id'],
    properties=['source.value as detail_value'],
) }}
