{#- One row per rubric indicator an evidence is aligned to (`evidences.indicators`). -#}

{{ root_array_items(
    source='stg_edreflect__evidences__indicators',
    root='stg_edreflect__evidences',
    root_id='evidence_id',
    key='evidence_indicator_key',
    ids=[
        'source.root_id as evidence_id',
        'source.rubric_id',
        'source.indicator_id',
        'source.aligned_by as aligned_by_user_id',
    ],
    timestamps=['source.aligned_at'],
) }}
