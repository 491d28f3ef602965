{#- One row per observation template (a process of activities, steps and forms). -#}

with

source as (

    select * from {{ ref('stg_edreflect__observation_templates') }}

),

final as (

    select
        ---------- ids
        source.observation_template_id,
        source.org_id,
        source.rubric_id,

        ---------- properties
        source.name,
        source.description,
        source.type,
        source.school_year,

        ---------- flags
        source.is_active,

        ---------- timestamps
        source.created_at,
        source.updated_at,

        ---------- soft delete
        source.is_deleted,
        source.deleted_at

    from source

)

select * from final
