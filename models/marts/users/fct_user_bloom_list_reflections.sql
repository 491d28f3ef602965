{#- One row per reflection a user wrote on their Bloom list (`users.bloomList.reflections`). -#}

with

source as (

    select * from {{ ref('stg_edreflect__users__bloom_list__reflections') }}

),

roots as (

    select user_id as root_id, is_deleted from {{ ref('stg_edreflect__users') }}

),

final as (

    select
        ---------- ids
        source.reflection_id as bloom_list_reflection_id,
        source.root_id as user_id,
        source.item_id as bloom_list_item_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.body,

        ---------- timestamps
        source.created_at,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
