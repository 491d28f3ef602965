/*
    Q3. Average indicator score per rubric domain (level-1 indicator), latest school year.
    (after: 2 joins; before: 5 joins, and a choice between `score` and `proficiency_level_score`)

    Only the indicators of each observation's scored evaluation count (`is_scored_evaluation`), so that domain
    averages agree with the observation scores; the reporting score is the chosen level's score.
*/

select
    rubrics.name as rubric_name,
    results.domain_code,
    results.domain_name,
    count(*) as score_count,
    round(avg(results.reporting_score), 2) as average_reporting_score

from {{ ref('fct_observation_indicator_results_current') }} as results
inner join {{ ref('dim_rubrics') }} as rubrics
    on results.rubric_id = rubrics.rubric_id
inner join {{ ref('dim_school_year') }} as school_years
    on results.school_year = school_years.school_year
where results.is_scored_evaluation
    and not results.is_not_applicable
    and school_years.is_latest_with_data
group by rubrics.name, results.domain_code, results.domain_name
order by rubrics.name, results.domain_code
