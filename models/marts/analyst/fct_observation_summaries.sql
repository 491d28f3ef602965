{#-
    One row per observation with the overall score an analyst reports, its school (district-wide records on the
    district member of dim_school), and local dates.

    Score rule: an observation's work can hold several evaluations (one per activity; observer, self and peer
    types; drafts). The observation's score is the `overall_score` of ONE evaluation, the scored evaluation:
    - only submitted (`submitted_at` set) evaluations of type `observer` with an overall score count;
    - among them, the primary observer's (`observations.observerId`) come first, then any other observer's;
    - the latest submitted wins (ties: the larger evaluation id).
    `score_rule` says which case applied: `primary observer`, `other observer`, or `not scored`.
    Self and peer evaluations are counted, never scored.
-#}

with

observations as (

    select * from {{ ref('stg_edreflect__observations') }}

),

evaluations as (

    select * from {{ ref('stg_edreflect__observations__work__evaluations') }}

),

levels as (

    select * from {{ ref('stg_edreflect__rubrics__proficiency_levels') }}

),

scorable as (

    select
        evaluations.root_id as observation_id,
        evaluations.evaluation_id,
        evaluations.overall_score,
        evaluations.overall_proficiency_level_id,
        case
            when evaluations.evaluator_id = observations.observer_id then 'primary observer'
            else 'other observer'
        end as score_rule,
        row_number() over (
            partition by evaluations.root_id
            order by
                case when evaluations.evaluator_id = observations.observer_id then 0 else 1 end,
                evaluations.submitted_at desc,
                evaluations.evaluation_id desc
        ) as score_rank

    from evaluations
    inner join observations
        on evaluations.root_id = observations.observation_id
    where evaluations.type = 'observer'
        and evaluations.submitted_at is not null
        and evaluations.overall_score is not null

),

scored as (

    select * from scorable
    where score_rank = 1

),

evaluation_counts as (

    select
        root_id as observation_id,
        count(*) as evaluation_count,
        count(submitted_at) as submitted_evaluation_count,
        count(case when type = 'observer' and submitted_at is not null then 1 end)
            as submitted_observer_evaluation_count,
        count(case when type = 'self' and submitted_at is not null then 1 end)
            as submitted_self_evaluation_count,
        count(case when type = 'peer' and submitted_at is not null then 1 end)
            as submitted_peer_evaluation_count

    from evaluations
    group by root_id

),

final as (

    select
        ---------- ids
        observations.observation_id,
        observations.org_id,
        coalesce(observations.sub_org_id, observations.org_id) as school_id,
        observations.school_year,
        observations.learner_id,
        observations.observer_id,
        observations.observation_template_id,
        observations.assignment_id,
        observations.rubric_id,
        scored.evaluation_id as scored_evaluation_id,
        scored.overall_proficiency_level_id,

        ---------- properties
        observations.status,
        scored.overall_score,
        levels.name as overall_proficiency_level_name,
        coalesce(scored.score_rule, 'not scored') as score_rule,
        coalesce(evaluation_counts.evaluation_count, 0) as evaluation_count,
        coalesce(evaluation_counts.submitted_evaluation_count, 0) as submitted_evaluation_count,
        coalesce(evaluation_counts.submitted_observer_evaluation_count, 0) as submitted_observer_evaluation_count,
        coalesce(evaluation_counts.submitted_self_evaluation_count, 0) as submitted_self_evaluation_count,
        coalesce(evaluation_counts.submitted_peer_evaluation_count, 0) as submitted_peer_evaluation_count,

        ---------- dates
        {{ local_date('observations.observed_at') }} as observed_date,
        {{ local_date('observations.completed_at') }} as completed_date,

        ---------- timestamps
        observations.observed_at,
        observations.completed_at,
        observations.created_at,

        ---------- flags
        observations.sub_org_id is null as is_district_wide,

        ---------- soft delete
        observations.is_deleted

    from observations
    left join scored
        on observations.observation_id = scored.observation_id
    left join levels
        on scored.overall_proficiency_level_id = levels.proficiency_level_id
    left join evaluation_counts
        on observations.observation_id = evaluation_counts.observation_id

)

select * from final
