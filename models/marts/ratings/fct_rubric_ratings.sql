{#- One row per rating set on one rubric within a rating record (`ratings.rubricRatings`). -#}

{{ root_array_items(
    source='stg_edreflect__ratings__rubric_ratings',
    root='stg_edreflect__ratings',
    root_id='rating_id',
    ids=[
        'source.rubric_rating_id',
        'source.root_id as rating_id',
        'source.rubric_id',
        'source.overall_proficiency_level_id',
    ],
    properties=['source.overall_score'],
    timestamps=['source.submitted_at'],
) }}
