-- An indicator scored in an evaluation or a rating set belongs to that evaluation's / set's rubric, and the
-- chosen proficiency level is a level of the same rubric (contract: "a level of the same rubric").
-- A vendor's broken promise that changes no output (no cohort reads scores): a warning, and the rows stay
-- in the facts flagged `is_off_rubric` (README: severity policy).
{{ config(severity='warn', store_failures=true, store_failures_as='view') }}

select
    'observation' as source,
    evaluation_indicator_id as score_id,
    indicator_id,
    rubric_id
from {{ ref('fct_observation_indicator_scores') }}
where is_off_rubric
union all
select
    'rating' as source,
    rubric_rating_indicator_id as score_id,
    indicator_id,
    rubric_id
from {{ ref('fct_rating_indicator_scores') }}
where is_off_rubric
