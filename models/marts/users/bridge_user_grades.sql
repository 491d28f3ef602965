{#- One row per grade level on a user's profile page (`users.grades`). -#}

{{ root_array_items(
    source='stg_edreflect__users__grades',
    root='stg_edreflect__users',
    root_id='user_id',
    key='user_grade_key',
    ids=['source.root_id as user_id'],
    properties=['source.value as grade_level'],
) }}
