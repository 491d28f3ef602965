{#-
    One row per activity work of an observation (`observations.work`): who did the activity, when, signatures.
-#}

with

observation_work as (

    select * from {{ ref('stg_edreflect__observations__work') }}

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
        observation_work.work_id,
        observation_work.root_id as observation_id,
        observation_work.activity_id,
        observation_work.observer_id,

        ---------- properties
        observation_work.array_index as position_in_parent,
        observation_work.status,

        ---------- dates
        observation_work.due_date,

        ---------- timestamps
        observation_work.started_at,
        observation_work.completed_at,
        observation_work.learner_signed_at,
        observation_work.observer_signed_at,

        ---------- soft delete
        observations.is_deleted

    from observation_work
    left join observations
        on observation_work.root_id = observations.observation_id

)

select * from final
