{#- One row per evidence: a file, link or note about a learner. -#}

with

source as (

    select * from {{ ref('stg_edreflect__evidences') }}

),

final as (

    select
        ---------- ids
        source.evidence_id,
        source.org_id,
        source.learner_id,
        source.owner_id,
        source.observation_id,
        source.artifact_id,

        ---------- properties
        source.title,
        source.description,
        source.type,
        source.url,
        source.school_year,

        ---------- timestamps
        source.created_at,
        source.updated_at,

        ---------- soft delete
        source.is_deleted,
        source.deleted_at

    from source

)

select * from final
