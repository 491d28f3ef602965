{#-
    One row per uploaded file or link (artifact) that evidences, goal posts, observation steps and profiles
    point to.
-#}

with

source as (

    select * from {{ ref('stg_edreflect__artifacts') }}

),

final as (

    select
        ---------- ids
        source.artifact_id,
        source.org_id,
        source.owner_id,

        ---------- properties
        source.name,
        source.description,
        source.type,
        source.file_name,
        source.mime_type,
        source.size_bytes,
        source.url,

        ---------- timestamps
        source.created_at,
        source.updated_at,

        ---------- soft delete
        source.is_deleted,
        source.deleted_at

    from source

)

select * from final
