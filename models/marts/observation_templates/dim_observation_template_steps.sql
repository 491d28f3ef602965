{#- One row per step of a template activity (form, evidence, rating, meeting notes, signature). -#}

{{ root_array_items(
    source='stg_edreflect__observation_templates__activities__steps',
    root='stg_edreflect__observation_templates',
    root_id='observation_template_id',
    ids=['source.step_id', 'source.root_id as observation_template_id', 'source.parent_id as activity_id'],
    properties=['source.name', 'source.type', 'source.assignee', 'source.due_days'],
    flags=['source.is_required'],
) }}
