{#- One row per reply to a goal comment. -#}

{{ root_array_items(
    source='stg_edreflect__goals__comments__replies',
    root='stg_edreflect__goals',
    root_id='goal_id',
    ids=[
        'source.reply_id as goal_comment_reply_id',
        'source.root_id as goal_id',
        'source.parent_id as goal_comment_id',
        'source.author_id',
    ],
    properties=['source.body'],
    timestamps=['source.created_at', 'source.edited_at'],
) }}
