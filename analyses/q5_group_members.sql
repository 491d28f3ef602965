/*
    Q5. Who is in which group (current groups and members, each membership once), with the group's category.
    (after: 1 join; before: 2 joins, two delete filters, trim/lower by hand and a distinct for repeats)
*/

select
    memberships.group_name,
    memberships.group_category,
    memberships.role,
    members.full_name as member_name

from {{ ref('bridge_group_memberships_current') }} as memberships
inner join {{ ref('dim_staff') }} as members
    on memberships.user_id = members.user_id
order by memberships.group_name, memberships.role, members.full_name
