{#-
    Current data: the rows of fct_observation_indicator_results whose record (and parent document) is not
    soft-deleted; a table, so every mart has a row id.
-#}

select * from {{ ref('fct_observation_indicator_results') }}
where not is_deleted
