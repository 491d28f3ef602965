{#- One row per element (question) of an SLO template section. -#}

{{ root_array_items(
    source='stg_edreflect__slo_templates__sections__elements',
    root='stg_edreflect__slo_templates',
    root_id='slo_template_id',
    ids=[
        'source.element_id as slo_element_id',
        'source.root_id as slo_template_id',
        'source.parent_id as slo_section_id',
    ],
    properties=['source.label', 'source.type', 'source.help_text'],
    flags=['source.is_required'],
) }}
