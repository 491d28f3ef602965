{#- One row per section of an SLO template. -#}

with

source as (

    select * from {{ ref('stg_edreflect__slo_templates__sections') }}

),

roots as (

    select slo_template_id as root_id, is_deleted from {{ ref('stg_edreflect__slo_templates') }}

),

final as (

    select
        ---------- ids
        source.section_id as slo_section_id,
        source.root_id as slo_template_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.title,
        source.instructions,
        source.phase,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
