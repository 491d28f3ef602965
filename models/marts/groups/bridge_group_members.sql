{#- One row per group membership of a user, with the user's role in the group (`users.groups`). `is_deleted` is the member's (user's) flag; join `dim_groups` for the group's. -#}

{{ root_array_items(
    source='stg_edreflect__users__groups',
    root='stg_edreflect__users',
    root_id='user_id',
    key='group_member_key',
    ids=['source.root_id as user_id', 'source.group_id'],
    properties=['source.role'],
    timestamps=['source.added_at'],
) }}
