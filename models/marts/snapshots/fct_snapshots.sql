{#- One row per snapshot: an observation's work frozen at submit, sign, reopen or finalize time. -#}

with

source as (

    select * from {{ ref('stg_edreflect__snapshots') }}

),

final as (

    select
        ---------- ids
        source.snapshot_id,
        source.org_id,
        source.observation_id,
        source.learner_id,
        source.taken_by as taken_by_user_id,

        ---------- properties
        source.reason,
        source.version,

        ---------- timestamps
        source.taken_at,
        source.created_at,
        source.updated_at,

        ---------- soft delete
        source.is_deleted,
        source.deleted_at

    from source

)

select * from final
