{#- Current data: the rows of fct_goal_summaries whose record is not soft-deleted. -#}

select * from {{ ref('fct_goal_summaries') }}
where not is_deleted
