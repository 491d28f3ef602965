{#- One row per value recorded for an SLO assessment measure (e.g. per tier). -#}

{{ root_array_items(
    source='stg_edreflect__slos__answers__assessments__measures__values',
    root='stg_edreflect__slos',
    root_id='slo_id',
    key='slo_measure_value_key',
    ids=['source.root_id as slo_id', 'source.parent_id as slo_measure_id'],
    properties=['source.value as measure_value'],
) }}
