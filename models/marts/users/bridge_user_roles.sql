{#- One row per platform role held by a user (`users.roles`). -#}

{{ root_array_items(
    source='stg_edreflect__users__roles',
    root='stg_edreflect__users',
    root_id='user_id',
    key='user_role_key',
    ids=['source.root_id as user_id'],
    properties=['source.value as role_name'],
) }}
