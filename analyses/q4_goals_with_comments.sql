/*
    Q4. Goals that have comments, with their reply and post counts and their owner.
    (after: 1 join; before: 4 joins over three pre-aggregated sub-queries)
*/

select
    owners.full_name as owner_name,
    goals.title,
    goals.status,
    goals.comment_count,
    goals.reply_count,
    goals.post_count,
    goals.created_date

from {{ ref('fct_goal_summaries_current') }} as goals
inner join {{ ref('dim_staff') }} as owners
    on goals.owner_id = owners.user_id
where goals.comment_count > 0
order by goals.comment_count desc, goals.title asc
