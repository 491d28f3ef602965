/*
    Q1. How many observations did each school hold in the latest school year, and what was their average
    overall score? (after: 2 joins; before: 3 joins and a score rule of one's own)

    Observations without a school count under "District-wide"; the score is fct_observation_summaries' rule
    (the primary observer's latest submitted observer evaluation); deleted observations are left out.
*/

select
    school_years.school_year_label,
    schools.school_name,
    count(*) as observation_count,
    count(observations.overall_score) as scored_observation_count,
    round(avg(observations.overall_score), 2) as average_overall_score

from {{ ref('fct_observation_summaries_current') }} as observations
inner join {{ ref('dim_school') }} as schools
    on observations.school_id = schools.school_id
inner join {{ ref('dim_school_year') }} as school_years
    on observations.school_year = school_years.school_year
where school_years.is_latest_with_data
group by school_years.school_year_label, schools.school_name
order by observation_count desc, schools.school_name asc
