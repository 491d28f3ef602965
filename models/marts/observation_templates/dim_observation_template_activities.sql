{#- One row per activity of an observation template (pre-conference, observation, post-conference, ...). -#}

{{ root_array_items(
    source='stg_edreflect__observation_templates__activities',
    root='stg_edreflect__observation_templates',
    root_id='observation_template_id',
    ids=['source.activity_id', 'source.root_id as observation_template_id', 'source.rubric_id'],
    properties=['source.name', 'source.description', 'source.type'],
    flags=['source.is_required', 'source.is_visible_to_learner'],
) }}
