{#- One row per item (learning resource or task) on a user's Bloom list (`users.bloomList.items`). -#}

{{ root_array_items(
    source='stg_edreflect__users__bloom_list__items',
    root='stg_edreflect__users',
    root_id='user_id',
    ids=['source.item_id as bloom_list_item_id', 'source.root_id as user_id'],
    properties=['source.title', 'source.type', 'source.url', 'source.status'],
    dates=['source.due_date'],
    timestamps=['source.completed_at', 'source.created_at'],
) }}
