{#- One row per item (learning resource or task) on a user's Bloom list (`users.bloomList.items`). -#}

with

user_bloom_list_items as (

    select * from {{ ref('stg_edreflect__users__bloom_list__items') }}

),

users as (

    select
        user_id,
        is_deleted
    from {{ ref('stg_edreflect__users') }}

),

final as (

    select
        ---------- ids
        user_bloom_list_items.item_id as bloom_list_item_id,
        user_bloom_list_items.root_id as user_id,

        ---------- properties
        user_bloom_list_items.array_index as position_in_parent,
        user_bloom_list_items.title,
        user_bloom_list_items.type,
        user_bloom_list_items.url,
        user_bloom_list_items.status,

        ---------- dates
        user_bloom_list_items.due_date,

        ---------- timestamps
        user_bloom_list_items.completed_at,
        user_bloom_list_items.created_at,

        ---------- soft delete
        users.is_deleted

    from user_bloom_list_items
    left join users
        on user_bloom_list_items.root_id = users.user_id

)

select * from final
