{#- Current data: the rows of dim_staff whose record is not soft-deleted. -#}

select * from {{ ref('dim_staff') }}
where not is_deleted
