{#- One row per rubric (evaluation framework). -#}

with

source as (

    select * from {{ ref('stg_edreflect__rubrics') }}

),

final as (

    select
        ---------- ids
        source.rubric_id,
        source.org_id,

        ---------- properties
        source.name,
        source.description,
        source.version,
        source.audience,
        source.scoring_method,
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
