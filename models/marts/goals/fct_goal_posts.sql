{#- One row per post (progress update or reflection) on a goal. -#}

{{ root_array_items(
    source='stg_edreflect__goals__posts',
    root='stg_edreflect__goals',
    root_id='goal_id',
    ids=['source.post_id as goal_post_id', 'source.root_id as goal_id', 'source.author_id'],
    properties=['source.title', 'source.body', 'source.visibility'],
    timestamps=['source.created_at'],
) }}
