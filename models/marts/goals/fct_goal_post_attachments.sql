{#- One row per file attached to a goal post. -#}

{{ root_array_items(
    source='stg_edreflect__goals__posts__attachments',
    root='stg_edreflect__goals',
    root_id='goal_id',
    key='goal_post_attachment_key',
    ids=['source.root_id as goal_id', 'source.parent_id as goal_post_id', 'source.artifact_id'],
    properties=['source.file_name', 'source.mime_type'],
) }}
