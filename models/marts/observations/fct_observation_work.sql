{#- One row per activity work of an observation (`observations.work`): who did the activity, when, signatures. -#}

with

source as (

    select * from {{ ref('stg_edreflect__observations__work') }}

),

roots as (

    select observation_id as root_id, is_deleted from {{ ref('stg_edreflect__observations') }}

),

final as (

    select
        ---------- ids
        source.work_id,
        source.root_id as observation_id,
        source.activity_id,
        source.observer_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.status,

        ---------- dates
        source.due_date,

        ---------- timestamps
        source.started_at,
        source.completed_at,
        source.learner_signed_at,
        source.observer_signed_at,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
