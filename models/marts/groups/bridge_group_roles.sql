{#- One row per platform role whose holders may manage a group (`groups.roles`). -#}

with

group_roles as (

    select * from {{ ref('stg_edreflect__groups__roles') }}

),

groups as (

    select
        group_id,
        is_deleted
    from {{ ref('stg_edreflect__groups') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['group_roles.parent_id', 'group_roles.array_index']) }} as group_role_key,
        group_roles.root_id as group_id,

        ---------- properties
        group_roles.array_index as position_in_parent,
        group_roles.value as role_name,

        ---------- soft delete
        groups.is_deleted

    from group_roles
    left join groups
        on group_roles.root_id = groups.group_id

)

select * from final
