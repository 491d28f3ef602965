{#-
    One row per end-of-year effectiveness classification of an educator (optional End-of-Year tool; empty when
    not used).
-#}

with

source as (

    select * from {{ ref('stg_edreflect__eoy_classifications') }}

),

final as (

    select
        ---------- ids
        source.classification_id as eoy_classification_id,
        source.org_id,
        source.learner_id,
        source.observer_id,
        source.rubric_id,
        source.observation_id,

        ---------- properties
        source.school_year,
        source.classification,
        source.score,
        source.notes,

        ---------- timestamps
        source.finalized_at,
        source.created_at,
        source.updated_at,

        ---------- soft delete
        source.is_deleted,
        source.deleted_at

    from source

)

select * from final
