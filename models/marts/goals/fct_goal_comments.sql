{#- One row per comment on a goal. -#}

with

goal_comments as (

    select * from {{ ref('stg_edreflect__goals__comments') }}

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
        goal_comments.comment_id as goal_comment_id,
        goal_comments.root_id as goal_id,
        goal_comments.author_id,

        ---------- properties
        goal_comments.array_index as position_in_parent,
        goal_comments.body,

        ---------- timestamps
        goal_comments.created_at,
        goal_comments.edited_at,

        ---------- soft delete
        goals.is_deleted

    from goal_comments
    left join goals
        on goal_comments.root_id = goals.goal_id

)

select * from final
