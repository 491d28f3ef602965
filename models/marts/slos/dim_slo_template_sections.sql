{#- One row per section of an SLO template. -#}

with

slo_template_sections as (

    select * from {{ ref('stg_edreflect__slo_templates__sections') }}

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
        slo_template_sections.section_id as slo_section_id,
        slo_template_sections.root_id as slo_template_id,

        ---------- properties
        slo_template_sections.array_index as position_in_parent,
        slo_template_sections.title,
        slo_template_sections.instructions,
        slo_template_sections.phase,

        ---------- soft delete
        slo_templates.is_deleted

    from slo_template_sections
    left join slo_templates
        on slo_template_sections.root_id = slo_templates.slo_template_id

)

select * from final
