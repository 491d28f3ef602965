{#- One row per goal with how much conversation it has: comments, replies to them, and posts. -#}

with

goals as (

    select * from {{ ref('stg_edreflect__goals') }}

),

comments as (

    select
        root_id as goal_id,
        count(*) as comment_count
    from {{ ref('stg_edreflect__goals__comments') }}
    group by root_id

),

replies as (

    select
        root_id as goal_id,
        count(*) as reply_count
    from {{ ref('stg_edreflect__goals__comments__replies') }}
    group by root_id

),

posts as (

    select
        root_id as goal_id,
        count(*) as post_count
    from {{ ref('stg_edreflect__goals__posts') }}
    group by root_id

),

final as (

    select
        ---------- ids
        goals.goal_id,
        goals.org_id,
        goals.school_year,
        goals.owner_id,
        goals.rubric_id,

        ---------- properties
        {{ display_text('goals.title') }} as title,
        goals.type,
        goals.status,
        coalesce(comments.comment_count, 0) as comment_count,
        coalesce(replies.reply_count, 0) as reply_count,
        coalesce(posts.post_count, 0) as post_count,

        ---------- dates
        goals.due_date,
        {{ local_date('goals.completed_at') }} as completed_date,
        {{ local_date('goals.created_at') }} as created_date,

        ---------- timestamps
        goals.completed_at,
        goals.created_at,

        ---------- soft delete
        goals.is_deleted

    from goals
    left join comments
        on goals.goal_id = comments.goal_id
    left join replies
        on goals.goal_id = replies.goal_id
    left join posts
        on goals.goal_id = posts.goal_id

)

select * from final
