{#- One row per reflection a user wrote on their Bloom list (`users.bloomList.reflections`). -#}

{{ root_array_items(
    source='stg_edreflect__users__bloom_list__reflections',
    root='stg_edreflect__users',
    root_id='user_id',
    ids=[
        'source.reflection_id as bloom_list_reflection_id',
        'source.root_id as user_id',
        'source.item_id as bloom_list_item_id',
    ],
    properties=['source.body'],
    timestamps=['source.created_at'],
) }}
