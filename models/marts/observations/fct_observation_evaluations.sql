{#- One row per evaluation in an activity work: a rubric scored by an observer, a peer or (type `self`) the learner. -#}

{{ root_array_items(
    source='stg_edreflect__observations__work__evaluations',
    root='stg_edreflect__observations',
    root_id='observation_id',
    ids=[
        'source.evaluation_id',
        'source.root_id as observation_id',
        'source.parent_id as work_id',
        'source.rubric_id',
        'source.evaluator_id',
        'source.overall_proficiency_level_id',
    ],
    properties=['source.type', 'source.overall_score'],
    timestamps=['source.submitted_at'],
) }}
