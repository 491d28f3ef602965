{#- One row per platform role held by a user (`users.roles`). -#}

with

user_roles as (

    select * from {{ ref('stg_edreflect__users__roles') }}

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
        {{ item_key(['user_roles.parent_id', 'user_roles.array_index']) }} as user_role_key,
        user_roles.root_id as user_id,

        ---------- properties
        user_roles.array_index as position_in_parent,
        user_roles.value as role_name,

        ---------- soft delete
        users.is_deleted

    from user_roles
    left join users
        on user_roles.root_id = users.user_id

)

select * from final
