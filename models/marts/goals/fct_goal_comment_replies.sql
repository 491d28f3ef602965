{#- One row per reply to a goal comment. -#}

with

goal_comment_replies as (

    select * from {{ ref('stg_edreflect__goals__comments__replies') }}

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
        goal_comment_replies.reply_id as goal_comment_reply_id,
        goal_comment_replies.root_id as goal_id,
        goal_comment_replies.parent_id as goal_comment_id,
        goal_comment_replies.author_id,

        ---------- properties
        goal_comment_replies.array_index as position_in_parent,
        goal_comment_replies.body,

        ---------- timestamps
        goal_comment_replies.created_at,
        goal_comment_replies.edited_at,

        ---------- soft delete
        goals.is_deleted

    from goal_comment_replies
    left join goals
        on goal_comment_replies.root_id = goals.goal_id

)

select * from final
