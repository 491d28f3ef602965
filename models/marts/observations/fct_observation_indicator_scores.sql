{#-
    One row per indicator scored in an observation evaluation, with the context an analyst filters on
    (learner, evaluator, rubric, school year, indicator level and path, chosen level's name and score)
    so that the common questions need no further joins.
-#}

{{ indicator_scores(
    scores_source='stg_edreflect__observations__work__evaluations__indicators',
    score_id='evaluation_indicator_id',
    parent_cte='evaluations',
    parent_source='stg_edreflect__observations__work__evaluations',
    parent_id='evaluation_id',
    root_cte='observations',
    root_source='stg_edreflect__observations',
    root_id='observation_id',
    context_ids=[
        'evaluations.parent_id as work_id',
        'observations.learner_id',
        'evaluations.evaluator_id',
        'evaluations.rubric_id',
    ],
    context_properties=['evaluations.type as evaluation_type', 'observations.school_year'],
    note_column='evidence',
) }}
