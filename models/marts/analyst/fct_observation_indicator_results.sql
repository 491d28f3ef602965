{#-
    One row per indicator scored in an observation evaluation, with the indicator's domain (its level-1
    ancestor), the observation's school and local date, whether the evaluation is the observation's scored one
    (fct_observation_summaries' rule), and one reporting score.

    Reporting-score rule: `reporting_score` is the score of the chosen proficiency level on the rubric's scale
    (`rubrics.proficiencyLevels.score`), so that it matches the level name and averages across indicators;
    when no level was chosen, the entered `score`; none when the indicator was marked not applicable.
    `reporting_score_source` says which. The raw `entered_score` is kept beside it.
-#}

with

indicator_scores as (

    select * from {{ ref('stg_edreflect__observations__work__evaluations__indicators') }}

),

evaluations as (

    select * from {{ ref('stg_edreflect__observations__work__evaluations') }}

),

observations as (

    select * from {{ ref('fct_observation_summaries') }}

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
        indicator_scores.evaluation_indicator_id,
        indicator_scores.root_id as observation_id,
        indicator_scores.parent_id as evaluation_id,
        observations.school_id,
        observations.school_year,
        observations.learner_id,
        evaluations.evaluator_id,
        evaluations.rubric_id,
        indicators.domain_indicator_id,
        indicator_scores.indicator_id,
        indicator_scores.proficiency_level_id,

        ---------- properties
        evaluations.type as evaluation_type,
        domains.code as domain_code,
        {{ display_text('domains.name') }} as domain_name,
        indicators.code as indicator_code,
        {{ display_text('indicators.name') }} as indicator_name,
        indicators.level as indicator_level,
        levels.name as proficiency_level_name,
        case
            when indicator_scores.is_not_applicable then null
            else coalesce(levels.score, indicator_scores.score)
        end as reporting_score,
        case
            when indicator_scores.is_not_applicable then 'not applicable'
            when levels.score is not null then 'proficiency level'
            when indicator_scores.score is not null then 'entered score'
            else 'not scored'
        end as reporting_score_source,
        indicator_scores.score as entered_score,

        ---------- dates
        observations.observed_date,

        ---------- flags
        indicator_scores.is_not_applicable,
        coalesce(indicator_scores.parent_id = observations.scored_evaluation_id, false) as is_scored_evaluation,

        ---------- soft delete
        observations.is_deleted

    from indicator_scores
    left join evaluations
        on indicator_scores.parent_id = evaluations.evaluation_id
    left join observations
        on indicator_scores.root_id = observations.observation_id
    left join indicators
        on indicator_scores.indicator_id = indicators.indicator_id
    left join indicators as domains
        on indicators.domain_indicator_id = domains.indicator_id
    left join levels
        on indicator_scores.proficiency_level_id = levels.proficiency_level_id

)

select * from final
