{#- One row per step of an activity work (`observations.work.steps`). -#}

with

observation_work_steps as (

    select * from {{ ref('stg_edreflect__observations__work__steps') }}

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
        observation_work_steps.work_step_id,
        observation_work_steps.root_id as observation_id,
        observation_work_steps.parent_id as work_id,
        observation_work_steps.step_id,
        observation_work_steps.completed_by as completed_by_user_id,

        ---------- properties
        observation_work_steps.array_index as position_in_parent,
        observation_work_steps.status,

        ---------- timestamps
        observation_work_steps.started_at,
        observation_work_steps.completed_at,

        ---------- soft delete
        observations.is_deleted

    from observation_work_steps
    left join observations
        on observation_work_steps.root_id = observations.observation_id

)

select * from final
