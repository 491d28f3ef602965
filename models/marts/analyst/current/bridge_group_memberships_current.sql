{#-
    Current memberships: neither the user nor the group soft-deleted, and no repeat of a membership already
    listed. A view: the rows are read from the base table, not copied (a table on Spark: dbt_project.yml).
-#}

select * from {{ ref('bridge_group_memberships') }}
where not is_user_deleted
    and not is_group_deleted
    and not is_duplicate
