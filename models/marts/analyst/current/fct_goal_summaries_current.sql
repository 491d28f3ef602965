{#-
    Current data: the rows of fct_goal_summaries whose record (and parent document) is not soft-deleted. A
    view: the rows are read from the base table, not copied (a table on Spark: dbt_project.yml).
-#}

select * from {{ ref('fct_goal_summaries') }}
where not is_deleted
