-- An indicator scored in an evaluation or a rating set belongs to that evaluation's / set's rubric, and the
-- chosen proficiency level is a level of the same rubric (contract: "a level of the same rubric").
select 'observation' as source, scores.evaluation_indicator_id as score_id
from {{ ref('fct_observation_indicator_scores') }} as scores
left join {{ ref('dim_rubric_indicators') }} as indicators
    on scores.indicator_id = indicators.indicator_id
left join {{ ref('dim_rubric_proficiency_levels') }} as levels
    on scores.proficiency_level_id = levels.proficiency_level_id
where indicators.rubric_id <> scores.rubric_id
    or levels.rubric_id <> scores.rubric_id
union all
select 'rating' as source, scores.rubric_rating_indicator_id as score_id
from {{ ref('fct_rating_indicator_scores') }} as scores
left join {{ ref('dim_rubric_indicators') }} as indicators
    on scores.indicator_id = indicators.indicator_id
left join {{ ref('dim_rubric_proficiency_levels') }} as levels
    on scores.proficiency_level_id = levels.proficiency_level_id
where indicators.rubric_id <> scores.rubric_id
    or levels.rubric_id <> scores.rubric_id
