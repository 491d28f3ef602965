{#-
    Current data: the rows of fct_goal_summaries whose record (and parent document) is not soft-deleted; a
    table, so every mart has a row id.
-#}

select * from {{ ref('fct_goal_summaries') }}
where not is_deleted
