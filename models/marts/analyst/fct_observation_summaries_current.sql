{#- Current data: the rows of fct_observation_summaries whose record is not soft-deleted. -#}

select * from {{ ref('fct_observation_summaries') }}
where not is_deleted
