{#- One row per choice of a choice-type form element. -#}

{{ root_array_items(
    source='stg_edreflect__observation_templates__activities__steps__forms__elements__choices',
    root='stg_edreflect__observation_templates',
    root_id='observation_template_id',
    ids=['source.choice_id', 'source.root_id as observation_template_id', 'source.parent_id as element_id'],
    properties=['source.label', 'source.value', 'source.score'],
) }}
