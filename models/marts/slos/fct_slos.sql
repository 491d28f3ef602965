{#- One row per student learning objective (SLO). -#}

with

source as (

    select * from {{ ref('stg_edreflect__slos') }}

),

final as (

    select
        ---------- ids
        source.slo_id,
        source.org_id,
        source.slo_template_id,
        source.owner_id,
        source.approver_id,

        ---------- properties
        source.title,
        source.status,
        source.school_year,
        source.final_score,
        source.final_rating,

        ---------- timestamps
        source.approved_at,
        source.created_at,
        source.updated_at,

        ---------- soft delete
        source.is_deleted,
        source.deleted_at

    from source

)

select * from final
