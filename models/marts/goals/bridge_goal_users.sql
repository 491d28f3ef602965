{#- One row per user who shares a goal (owner, collaborator or viewer). -#}

{{ root_array_items(
    source='stg_edreflect__goals__users',
    root='stg_edreflect__goals',
    root_id='goal_id',
    key='goal_user_key',
    ids=['source.root_id as goal_id', 'source.user_id'],
    properties=['source.role'],
    timestamps=['source.added_at'],
) }}
