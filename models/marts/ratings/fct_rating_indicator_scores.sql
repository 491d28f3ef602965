{#-
    One row per indicator rated in a rating set, with the context an analyst filters on (learner, rater,
    rating type, rubric, school year, indicator level and path, selected level's name and score).
-#}

{{ indicator_scores(
    scores_source='stg_edreflect__ratings__rubric_ratings__indicators',
    score_id='rubric_rating_indicator_id',
    parent_cte='rubric_ratings',
    parent_source='stg_edreflect__ratings__rubric_ratings',
    parent_id='rubric_rating_id',
    root_cte='ratings',
    root_source='stg_edreflect__ratings',
    root_id='rating_id',
    context_ids=['ratings.learner_id', 'ratings.observer_id', 'rubric_ratings.rubric_id'],
    context_properties=['ratings.type as rating_type', 'ratings.school_year'],
    note_column='comment',
) }}
