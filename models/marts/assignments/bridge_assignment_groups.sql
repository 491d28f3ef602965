{#-
    One row per group assigned (assignments.learnerGroups / assignments.observerGroups), with the role as
    assignment_role.
-#}

with

members as (

    select
        'learner' as assignment_role,
        *
    from {{ ref('stg_edreflect__assignments__learner_groups') }}
    union all
    select
        'observer' as assignment_role,
        *
    from {{ ref('stg_edreflect__assignments__observer_groups') }}

),

assignments as (

    select
        assignment_id,
        is_deleted
    from {{ ref('stg_edreflect__assignments') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['members.parent_id', 'members.assignment_role', 'members.array_index']) }} as assignment_group_key,
        members.root_id as assignment_id,
        members.value as group_id,

        ---------- properties
        members.assignment_role,
        members.array_index as position_in_parent,

        ---------- soft delete
        assignments.is_deleted

    from members
    left join assignments
        on members.root_id = assignments.assignment_id

)

select * from final
