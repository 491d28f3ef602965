{#- The StaffCohortAssociations to send: one per sent cohort and member with a state staff id. -#}

with

evaluated as (

    select * from {{ ref('edfi_staff_cohort_associations_evaluated') }}

)

select
    ---------- ids
    group_id,
    user_id,
    school_year,

    ---------- payload (Ed-Fi StaffCohortAssociation)
    cohort_identifier,
    education_organization_id,
    staff_unique_id,
    begin_date

from evaluated
where outcome = 'sent'
