{#- Current data: the rows of fct_observation_indicator_results whose record is not soft-deleted. -#}

select * from {{ ref('fct_observation_indicator_results') }}
where not is_deleted
