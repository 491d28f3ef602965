{#- One row per platform role whose holders may manage a group (`groups.roles`). -#}

{{ root_array_items(
    source='stg_edreflect__groups__roles',
    root='stg_edreflect__groups',
    root_id='group_id',
    key='group_role_key',
    ids=['source.root_id as group_id'],
    properties=['source.value as role_name'],
) }}
