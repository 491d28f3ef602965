{#- One row per content area on a user's profile page (`users.contentAreas`). -#}

{{ root_array_items(
    source='stg_edreflect__users__content_areas',
    root='stg_edreflect__users',
    root_id='user_id',
    key='user_content_area_key',
    ids=['source.root_id as user_id'],
    properties=['source.value as content_area'],
) }}
