{#- One row per reflection a user wrote on their Bloom list (`users.bloomList.reflections`). -#}

with

user_bloom_list_reflections as (

    select * from {{ ref('stg_edreflect__users__bloom_list__reflections') }}

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
        user_bloom_list_reflections.reflection_id as bloom_list_reflection_id,
        user_bloom_list_reflections.root_id as user_id,
        user_bloom_list_reflections.item_id as bloom_list_item_id,

        ---------- properties
        user_bloom_list_reflections.array_index as position_in_parent,
        user_bloom_list_reflections.body,

        ---------- timestamps
        user_bloom_list_reflections.created_at,

        ---------- soft delete
        users.is_deleted

    from user_bloom_list_reflections
    left join users
        on user_bloom_list_reflections.root_id = users.user_id

)

select * from final
