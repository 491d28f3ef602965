{#- One row per group membership of a user, with the user's role in the group (`users.groups`). `is_deleted` is the member's (user's) flag; join `dim_groups` for the group's. -#}

with

source as (

    select * from {{ ref('stg_edreflect__users__groups') }}

),

roots as (

    select user_id as root_id, is_deleted from {{ ref('stg_edreflect__users') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['source.parent_id', 'source.array_index']) }} as group_member_key,
        source.root_id as user_id,
        source.group_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.role,

        ---------- timestamps
        source.added_at,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
