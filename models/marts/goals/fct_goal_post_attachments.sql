{#- One row per file attached to a goal post. -#}

with

goal_post_attachments as (

    select * from {{ ref('stg_edreflect__goals__posts__attachments') }}

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
        {{ item_key(['goal_post_attachments.parent_id', 'goal_post_attachments.array_index']) }} as goal_post_attachment_key,
        goal_post_attachments.root_id as goal_id,
        goal_post_attachments.parent_id as goal_post_id,
        goal_post_attachments.artifact_id,

        ---------- properties
        goal_post_attachments.array_index as position_in_parent,
        goal_post_attachments.file_name,
        goal_post_attachments.mime_type,

        ---------- soft delete
        goals.is_deleted

    from goal_post_attachments
    left join goals
        on goal_post_attachments.root_id = goals.goal_id

)

select * from final
