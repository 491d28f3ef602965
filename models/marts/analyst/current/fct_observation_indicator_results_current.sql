{#-
    Current data: the rows of fct_observation_indicator_results whose record (and parent document) is not
    soft-deleted. A view: the rows are read from the base table, not copied (a table on Spark:
    dbt_project.yml).
-#}

select * from {{ ref('fct_observation_indicator_results') }}
where not is_deleted
