{#-
    Current data: the rows of dim_staff whose record (and parent document) is not soft-deleted. A view: the
    rows are read from the base table, not copied (a table on Spark: dbt_project.yml).
-#}

select * from {{ ref('dim_staff') }}
where not is_deleted
