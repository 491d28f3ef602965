{#- Current data: the rows of fct_slo_summaries whose record is not soft-deleted. -#}

select * from {{ ref('fct_slo_summaries') }}
where not is_deleted
