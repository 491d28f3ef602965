{#-
    Current data: the rows of dim_staff whose record (and parent document) is not soft-deleted; a table, so
    every mart has a row id.
-#}

select * from {{ ref('dim_staff') }}
where not is_deleted
