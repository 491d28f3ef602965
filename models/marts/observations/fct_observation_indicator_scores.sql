{#-
    One row per indicator scored in an observation evaluation, with the context an analyst filters on
    (learner, evaluator, rubric, school year, indicator level and path, chosen level's name and score)
    so that the common questions need no further joins.
-#}

with

scores as (

    select * from {{ ref('stg_edreflect__observations__work__evaluations__indicators') }}

),

evaluations as (

    select * from {{ ref('stg_edreflect__observations__work__evaluations') }}

),

observations as (

    select * from {{ ref('stg_edreflect__observations') }}

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
        scores.evaluation_indicator_id,
        scores.root_id as observation_id,
        scores.parent_id as evaluation_id,
        evaluations.parent_id as work_id,
        observations.learner_id,
        evaluations.evaluator_id,
        evaluations.rubric_id,
        scores.indicator_id,
        scores.proficiency_level_id,

        ---------- properties
        scores.array_index as position_in_parent,
        evaluations.type as evaluation_type,
        observations.school_year,
        indicators.level as indicator_level,
        indicators.code_path as indicator_code_path,
        levels.name as proficiency_level_name,
        levels.score as proficiency_level_score,
        scores.score,
        scores.evidence,

        ---------- flags
        scores.is_not_applicable,
        -- a vendor contract violation kept, not dropped: the indicator or the chosen level belongs to
        -- another rubric than the evaluation's (the `assert_scored_indicators_belong_to_the_rubric` warning)
        (
            coalesce(indicators.rubric_id <> evaluations.rubric_id, false)
            or coalesce(levels.root_id <> evaluations.rubric_id, false)
        ) as is_off_rubric,

        ---------- soft delete
        observations.is_deleted

    from scores
    left join evaluations
        on scores.parent_id = evaluations.evaluation_id
    left join observations
        on scores.root_id = observations.observation_id
    left join indicators
        on scores.indicator_id = indicators.indicator_id
    left join levels
        on scores.proficiency_level_id = levels.proficiency_level_id

)

select * from final
