{#- One row per rating record: a rater's ratings of a learner. -#}

with

source as (

    select * from {{ ref('stg_edreflect__ratings') }}

),

final as (

    select
        ---------- ids
        source.rating_id,
        source.org_id,
        source.learner_id,
        source.observer_id,
        source.observation_id,
        source.work_id,

        ---------- properties
        source.type,
        source.status,
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
