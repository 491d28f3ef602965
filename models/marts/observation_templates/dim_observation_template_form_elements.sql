{#- One row per form element (question) of a template form. -#}

{{ root_array_items(
    source='stg_edreflect__observation_templates__activities__steps__forms__elements',
    root='stg_edreflect__observation_templates',
    root_id='observation_template_id',
    ids=[
        'source.element_id',
        'source.root_id as observation_template_id',
        'source.parent_id as form_id',
        'source.indicator_id',
    ],
    properties=['source.label', 'source.type', 'source.help_text'],
    flags=['source.is_required'],
) }}
