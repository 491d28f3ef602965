{#- One row per SLO template (optional SLO tool; empty when not used). -#}

with

source as (

    select * from {{ ref('stg_edreflect__slo_templates') }}

),

final as (

    select
        ---------- ids
        source.slo_template_id,
        source.org_id,

        ---------- properties
        source.name,
        source.description,
        source.school_year,

        ---------- flags
        source.is_active,
        source.is_approval_required,

        ---------- timestamps
        source.created_at,
        source.updated_at,

        ---------- soft delete
        source.is_deleted,
        source.deleted_at

    from source

)

select * from final
