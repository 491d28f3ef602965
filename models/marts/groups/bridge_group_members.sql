{#-
    One row per group membership of a user, with the user's role in the group (`users.groups`). `is_deleted`
    is the member's (user's) flag; join `dim_groups` for the group's.
-#}

with

group_members as (

    select * from {{ ref('stg_edreflect__users__groups') }}

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
        {{ item_key(['group_members.parent_id', 'group_members.array_index']) }} as group_member_key,
        group_members.root_id as user_id,
        group_members.group_id,

        ---------- properties
        group_members.array_index as position_in_parent,
        group_members.role,

        ---------- timestamps
        group_members.added_at,

        ---------- soft delete
        users.is_deleted

    from group_members
    left join users
        on group_members.root_id = users.user_id

)

select * from final
