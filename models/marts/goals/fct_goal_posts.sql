{#- One row per post (progress update or reflection) on a goal. -#}

with

goal_posts as (

    select * from {{ ref('stg_edreflect__goals__posts') }}

),

goals as (

    select
        goal_id,
        is_deleted
    from {{ ref('stg_edreflect__goals') }}

),

final as (

    select
        ---------- ids
        goal_posts.post_id as goal_post_id,
        goal_posts.root_id as goal_id,
        goal_posts.author_id,

        ---------- properties
        goal_posts.array_index as position_in_parent,
        goal_posts.title,
        goal_posts.body,
        goal_posts.visibility,

        ---------- timestamps
        goal_posts.created_at,

        ---------- soft delete
        goals.is_deleted

    from goal_posts
    left join goals
        on goal_posts.root_id = goals.goal_id

)

select * from final
