{#- One row per content area on a user's profile page (`users.contentAreas`). -#}

with

user_content_areas as (

    select * from {{ ref('stg_edreflect__users__content_areas') }}

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
        {{ item_key(['user_content_areas.parent_id', 'user_content_areas.array_index']) }} as user_content_area_key,
        user_content_areas.root_id as user_id,

        ---------- properties
        user_content_areas.array_index as position_in_parent,
        user_content_areas.value as content_area,

        ---------- soft delete
        users.is_deleted

    from user_content_areas
    left join users
        on user_content_areas.root_id = users.user_id

)

select * from final
