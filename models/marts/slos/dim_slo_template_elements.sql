{#- One row per element (question) of an SLO template section. -#}

with

slo_template_elements as (

    select * from {{ ref('stg_edreflect__slo_templates__sections__elements') }}

),

slo_templates as (

    select
        slo_template_id,
        is_deleted
    from {{ ref('stg_edreflect__slo_templates') }}

),

final as (

    select
        ---------- ids
        slo_template_elements.element_id as slo_element_id,
        slo_template_elements.root_id as slo_template_id,
        slo_template_elements.parent_id as slo_section_id,

        ---------- properties
        slo_template_elements.array_index as position_in_parent,
        slo_template_elements.label,
        slo_template_elements.type,
        slo_template_elements.help_text,

        ---------- flags
        slo_template_elements.is_required,

        ---------- soft delete
        slo_templates.is_deleted

    from slo_template_elements
    left join slo_templates
        on slo_template_elements.root_id = slo_templates.slo_template_id

)

select * from final
