{#- One row per element (question) of an SLO template section. -#}

with

source as (

    select * from {{ ref('stg_edreflect__slo_templates__sections__elements') }}

),

roots as (

    select slo_template_id as root_id, is_deleted from {{ ref('stg_edreflect__slo_templates') }}

),

final as (

    select
        ---------- ids
        source.element_id as slo_element_id,
        source.root_id as slo_template_id,
        source.parent_id as slo_section_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.label,
        source.type,
        source.help_text,

        ---------- flags
        source.is_required,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
