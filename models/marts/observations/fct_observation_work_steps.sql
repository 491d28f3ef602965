{#- One row per step of an activity work (`observations.work.steps`). -#}

with

source as (

    select * from {{ ref('stg_edreflect__observations__work__steps') }}

),

roots as (

    select observation_id as root_id, is_deleted from {{ ref('stg_edreflect__observations') }}

),

final as (

    select
        ---------- ids
        source.work_step_id,
        source.root_id as observation_id,
        source.parent_id as work_id,
        source.step_id,
        source.completed_by as completed_by_user_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.status,

        ---------- timestamps
        source.started_at,
        source.completed_at,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
