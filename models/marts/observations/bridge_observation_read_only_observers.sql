{#- One row per user who may view (not edit) an observation. -#}

with

source as (

    select * from {{ ref('stg_edreflect__observations__read_only_observers') }}

),

roots as (

    select observation_id as root_id, is_deleted from {{ ref('stg_edreflect__observations') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['source.parent_id', 'source.array_index']) }} as read_only_observer_key,
        source.root_id as observation_id,
        source.value as user_id,

        ---------- properties
        source.array_index as position_in_parent,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
