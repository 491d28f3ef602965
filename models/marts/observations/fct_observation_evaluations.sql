{#-
    One row per evaluation in an activity work: a rubric scored by an observer, a peer or (type `self`) the
    learner.
-#}

with

observation_evaluations as (

    select * from {{ ref('stg_edreflect__observations__work__evaluations') }}

),

observations as (

    select
        observation_id,
        is_deleted
    from {{ ref('stg_edreflect__observations') }}

),

final as (

    select
        ---------- ids
        observation_evaluations.evaluation_id,
        observation_evaluations.root_id as observation_id,
        observation_evaluations.parent_id as work_id,
        observation_evaluations.rubric_id,
        observation_evaluations.evaluator_id,
        observation_evaluations.overall_proficiency_level_id,

        ---------- properties
        observation_evaluations.array_index as position_in_parent,
        observation_evaluations.type,
        observation_evaluations.overall_score,

        ---------- timestamps
        observation_evaluations.submitted_at,

        ---------- soft delete
        observations.is_deleted

    from observation_evaluations
    left join observations
        on observation_evaluations.root_id = observations.observation_id

)

select * from final
