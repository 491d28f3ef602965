{#-
    One row per indicator rated in a rating set, with the context an analyst filters on (learner, rater,
    rating type, rubric, school year, indicator level and path, selected level's name and score).
-#}

with

scores as (

    select * from {{ ref('stg_edreflect__ratings__rubric_ratings__indicators') }}

),

rubric_ratings as (

    select * from {{ ref('stg_edreflect__ratings__rubric_ratings') }}

),

ratings as (

    select * from {{ ref('stg_edreflect__ratings') }}

),

indicators as (

    select * from {{ ref('int_rubric_indicators_flattened') }}

),

levels as (

    select * from {{ ref('stg_edreflect__rubrics__proficiency_levels') }}

),

final as (

    select
        ---------- ids
        scores.rubric_rating_indicator_id,
        scores.root_id as rating_id,
        scores.parent_id as rubric_rating_id,
        ratings.learner_id,
        ratings.observer_id,
        rubric_ratings.rubric_id,
        scores.indicator_id,
        scores.proficiency_level_id,

        ---------- properties
        scores.array_index as position_in_parent,
        ratings.type as rating_type,
        ratings.school_year,
        indicators.level as indicator_level,
        indicators.code_path as indicator_code_path,
        levels.name as proficiency_level_name,
        levels.score as proficiency_level_score,
        scores.score,
        scores.comment,

        ---------- flags
        scores.is_not_applicable,
        -- a vendor contract violation kept, not dropped: the indicator or the chosen level belongs to
        -- another rubric than the evaluation's (the `assert_scored_indicators_belong_to_the_rubric` warning)
        (
            coalesce(indicators.rubric_id <> rubric_ratings.rubric_id, false)
            or coalesce(levels.root_id <> rubric_ratings.rubric_id, false)
        ) as is_off_rubric,

        ---------- soft delete
        ratings.is_deleted

    from scores
    left join rubric_ratings
        on scores.parent_id = rubric_ratings.rubric_rating_id
    left join ratings
        on scores.root_id = ratings.rating_id
    left join indicators
        on scores.indicator_id = indicators.indicator_id
    left join levels
        on scores.proficiency_level_id = levels.proficiency_level_id

)

select * from final
