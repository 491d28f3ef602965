{#-
    One row per group membership (`users.groups`), with the group's display name, normalised category, school
    and year, so that "who is in which group" needs no other join. A membership is deleted when its user OR its
    group is: `is_user_deleted` and `is_group_deleted` say which, `is_deleted` is either. The export can list the
    same group twice on a user (same user, group and role): the first in list order is kept as is, the others
    have `is_duplicate`.
-#}

with

memberships as (

    select * from {{ ref('stg_edreflect__users__groups') }}

),

users as (

    select * from {{ ref('stg_edreflect__users') }}

),

groups as (

    select * from {{ ref('stg_edreflect__groups') }}

),

numbered as (

    select
        memberships.*,
        row_number() over (
            partition by memberships.root_id, memberships.group_id, memberships.role
            order by memberships.array_index
        ) as occurrence

    from memberships

),

final as (

    select
        ---------- ids
        {{ item_key(['numbered.parent_id', 'numbered.array_index']) }} as group_member_key,
        numbered.root_id as user_id,
        numbered.group_id,
        coalesce(groups.sub_org_id, groups.org_id) as school_id,
        groups.school_year,

        ---------- properties
        numbered.role,
        {{ display_text('groups.name') }} as group_name,
        groups.name as group_name_raw,
        groups.type as group_type,
        {{ normalized_category('groups.category') }} as group_category,
        groups.category as group_category_raw,

        ---------- dates
        {{ local_date('numbered.added_at') }} as added_date,

        ---------- timestamps
        numbered.added_at,

        ---------- flags
        numbered.occurrence > 1 as is_duplicate,

        ---------- soft delete
        users.is_deleted as is_user_deleted,
        groups.is_deleted as is_group_deleted,
        users.is_deleted or groups.is_deleted as is_deleted

    from numbered
    left join users
        on numbered.root_id = users.user_id
    left join groups
        on numbered.group_id = groups.group_id

)

select * from final
