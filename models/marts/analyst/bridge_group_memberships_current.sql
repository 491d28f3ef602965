{#-
    Current memberships: neither the user nor the group soft-deleted, and no repeat of a membership already
    listed.
-#}

select * from {{ ref('bridge_group_memberships') }}
where not is_user_deleted
    and not is_group_deleted
    and not is_duplicate
