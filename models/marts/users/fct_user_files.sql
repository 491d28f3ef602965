{#- One row per file on a user's profile (`users.files`): certifications, resumes, portfolios. -#}

{{ root_array_items(
    source='stg_edreflect__users__files',
    root='stg_edreflect__users',
    root_id='user_id',
    key='user_file_key',
    ids=['source.root_id as user_id', 'source.artifact_id'],
    properties=['source.file_name', 'source.category'],
    timestamps=['source.uploaded_at'],
) }}
