{#- One row per user who may view (not edit) an observation. -#}

with

observation_read_only_observers as (

    select * from {{ ref('stg_edreflect__observations__read_only_observers') }}

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
        {{ item_key(['observation_read_only_observers.parent_id', 'observation_read_only_observers.array_index']) }}
            as read_only_observer_key,
        observation_read_only_observers.root_id as observation_id,
        observation_read_only_observers.value as user_id,

        ---------- properties
        observation_read_only_observers.array_index as position_in_parent,

        ---------- soft delete
        observations.is_deleted

    from observation_read_only_observers
    left join observations
        on observation_read_only_observers.root_id = observations.observation_id

)

select * from final
