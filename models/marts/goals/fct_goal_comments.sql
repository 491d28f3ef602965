{#- One row per comment on a goal. -#}

{{ root_array_items(
    source='stg_edreflect__goals__comments',
    root='stg_edreflect__goals',
    root_id='goal_id',
    ids=['source.comment_id as goal_comment_id', 'source.root_id as goal_id', 'source.author_id'],
    properties=['source.body'],
    timestamps=['source.created_at', 'source.edited_at'],
) }}
