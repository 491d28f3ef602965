{#- One row per section of an SLO template. -#}

{{ root_array_items(
    source='stg_edreflect__slo_templates__sections',
    root='stg_edreflect__slo_templates',
    root_id='slo_template_id',
    ids=['source.section_id as slo_section_id', 'source.root_id as slo_template_id'],
    properties=['source.title', 'source.instructions', 'source.phase'],
) }}
