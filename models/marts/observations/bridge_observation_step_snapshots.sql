{#- One row per snapshot taken at a work step. -#}

with

observation_step_snapshots as (

    select * from {{ ref('stg_edreflect__observations__work__steps__snapshots') }}

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
        {{ item_key(['observation_step_snapshots.parent_id', 'observation_step_snapshots.array_index']) }} as step_snapshot_key,
        observation_step_snapshots.root_id as observation_id,
        observation_step_snapshots.parent_id as work_step_id,
        observation_step_snapshots.value as snapshot_id,

        ---------- properties
        observation_step_snapshots.array_index as position_in_parent,

        ---------- soft delete
        observations.is_deleted

    from observation_step_snapshots
    left join observations
        on observation_step_snapshots.root_id = observations.observation_id

)

select * from final
