{#- One row per measure of an SLO assessment (target, actual, met). -#}

{{ root_array_items(
    source='stg_edreflect__slos__answers__assessments__measures',
    root='stg_edreflect__slos',
    root_id='slo_id',
    ids=['source.measure_id as slo_measure_id', 'source.root_id as slo_id', 'source.parent_id as slo_assessment_id'],
    properties=['source.name', 'source.unit', 'source.target', 'source.actual'],
    flags=['source.is_met_target'],
) }}
