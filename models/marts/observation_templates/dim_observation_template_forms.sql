{#- One row per form of a template step. -#}

{{ root_array_items(
    source='stg_edreflect__observation_templates__activities__steps__forms',
    root='stg_edreflect__observation_templates',
    root_id='observation_template_id',
    ids=['source.form_id', 'source.root_id as observation_template_id', 'source.parent_id as step_id'],
    properties=['source.title', 'source.instructions'],
) }}
