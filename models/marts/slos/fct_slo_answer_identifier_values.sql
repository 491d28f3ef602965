{#- One row per value of a multi-valued SLO answer identifier. -#}

{{ root_array_items(
    source='stg_edreflect__slos__answers__identifiers__values',
    root='stg_edreflect__slos',
    root_id='slo_id',
    key='slo_identifier_value_key',
    ids=['source.root_id as slo_id', 'source.parent_id as slo_answer_identifier_id'],
    properties=['source.value as identifier_value'],
) }}
