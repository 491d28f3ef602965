/*
    Q6. How many SLOs met their targets, per school year? (after: 1 join; before: 1 join and a roll-up of the
    measures' metTarget of one's own)

    target_status is fct_slo_summaries' roll-up: met = every measure scored and met; not met = some scored
    measure missed; not scored = otherwise.
*/

select
    school_years.school_year_label,
    count(*) as slo_count,
    count(case when slos.target_status = 'met' then 1 end) as met_count,
    count(case when slos.target_status = 'not met' then 1 end) as not_met_count,
    count(case when slos.target_status = 'not scored' then 1 end) as not_scored_count

from {{ ref('fct_slo_summaries_current') }} as slos
inner join {{ ref('dim_school_year') }} as school_years
    on slos.school_year = school_years.school_year
group by school_years.school_year_label
order by school_years.school_year_label
