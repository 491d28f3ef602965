{#- The Cohorts to send: one row per mapped, not deleted, valid group of a configured school year. -#}

with

evaluated as (

    select * from {{ ref('edfi_cohorts_evaluated') }}

)

select
    ---------- ids
    group_id,
    school_year,

    ---------- payload (Ed-Fi Cohort)
    cohort_identifier,
    education_organization_id,
    cohort_description,
    cohort_scope_descriptor,
    cohort_type_descriptor

from evaluated
where outcome = 'sent'
