{#- One row per choice of an SLO template element. -#}

{{ root_array_items(
    source='stg_edreflect__slo_templates__sections__elements__choices',
    root='stg_edreflect__slo_templates',
    root_id='slo_template_id',
    ids=['source.choice_id as slo_choice_id', 'source.root_id as slo_template_id', 'source.parent_id as slo_element_id'],
    properties=['source.label', 'source.value', 'source.score'],
) }}
