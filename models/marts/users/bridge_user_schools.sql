{#- One row per school in a user's school list (`users.subOrgs`). -#}

{{ root_array_items(
    source='stg_edreflect__users__sub_orgs',
    root='stg_edreflect__users',
    root_id='user_id',
    key='user_school_key',
    ids=['source.root_id as user_id', 'source.sub_org_id as school_id', 'source.state_school_id'],
    properties=['source.name as school_name'],
    flags=['source.is_primary'],
) }}
