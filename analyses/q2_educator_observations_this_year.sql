/*
    Q2. An educator's observations this school year: date (district time), school, observer, score.
    (after: 4 joins, all to dimensions; before: 6 joins, a score rule, a UTC-to-local conversion and a
    hand-made school-year filter)

    The educator: `--vars '{educator_id: ...}'`; by default the educator with the most observations. "This
    year" is dim_school_year.is_current (today in the district's time zone).
*/

{%- set educator_id = var('educator_id', none) %}

select
    learners.full_name as educator_name,
    observations.observed_date,
    schools.school_name,
    observers.full_name as observer_name,
    observations.status,
    observations.overall_score,
    observations.overall_proficiency_level_name

from {{ ref('fct_observation_summaries_current') }} as observations
inner join {{ ref('dim_staff') }} as learners
    on observations.learner_id = learners.user_id
inner join {{ ref('dim_staff') }} as observers
    on observations.observer_id = observers.user_id
inner join {{ ref('dim_school') }} as schools
    on observations.school_id = schools.school_id
inner join {{ ref('dim_school_year') }} as school_years
    on observations.school_year = school_years.school_year
where school_years.is_current
    {%- if educator_id %}
        and observations.learner_id = '{{ educator_id }}'
    {%- else %}
        and observations.learner_id = (
            select learner_id
            from {{ ref('fct_observation_summaries_current') }}
            group by learner_id
            order by count(*) desc, learner_id asc
            limit 1
        )
    {%- endif %}
order by observations.observed_date
