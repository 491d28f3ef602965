{#- One row per goal (optional Goals tool; empty when the district did not use it). -#}

with

source as (

    select * from {{ ref('stg_edreflect__goals') }}

),

final as (

    select
        ---------- ids
        source.goal_id,
        source.org_id,
        source.owner_id,
        source.rubric_id,

        ---------- properties
        source.title,
        source.description,
        source.type,
        source.status,
        source.school_year,

        ---------- dates
        source.due_date,

        ---------- timestamps
        source.completed_at,
        source.created_at,
        source.updated_at,

        ---------- soft delete
        source.is_deleted,
        source.deleted_at

    from source

)

select * from final
