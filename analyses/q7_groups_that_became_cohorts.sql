/*
    Q7. Which groups became Ed-Fi cohorts, and how many current members each has.
    (after: 1 join; before: 1 join and a delete filter on each side, duplicates counted)

    The Ed-Fi audit model edfi_cohorts_evaluated gives every group one outcome (`sent` = sent as a cohort).
*/

select
    cohorts.school_year,
    {{ display_text('cohorts.group_name') }} as group_name,
    cohorts.cohort_identifier,
    count(memberships.user_id) as current_member_count

from {{ ref('edfi_cohorts_evaluated') }} as cohorts
left join {{ ref('bridge_group_memberships_current') }} as memberships
    on cohorts.group_id = memberships.group_id
where cohorts.outcome = 'sent'
group by cohorts.school_year, {{ display_text('cohorts.group_name') }}, cohorts.cohort_identifier
order by cohorts.school_year, group_name
