{#- One row per standard a rubric lists (`rubrics.standards`). -#}

{{ root_array_items(
    source='stg_edreflect__rubrics__standards',
    root='stg_edreflect__rubrics',
    root_id='rubric_id',
    ids=['source.standard_id', 'source.root_id as rubric_id'],
    properties=['source.code', 'source.name', 'source.description', 'source.source'],
) }}
