{#- One row per item (learning resource or task) on a user's Bloom list (`users.bloomList.items`). -#}

with

source as (

    select * from {{ ref('stg_edreflect__users__bloom_list__items') }}

),

roots as (

    select user_id as root_id, is_deleted from {{ ref('stg_edreflect__users') }}

),

final as (

    select
        ---------- ids
        source.item_id as bloom_list_item_id,
        source.root_id as user_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.title,
        source.type,
        source.url,
        source.status,

        ---------- dates
        source.due_date,

        ---------- timestamps
        source.completed_at,
        source.created_at,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
