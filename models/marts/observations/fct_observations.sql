{#- One row per observation: one run of a template for one learner. -#}

with

source as (

    select * from {{ ref('stg_edreflect__observations') }}

),

final as (

    select
        ---------- ids
        source.observation_id,
        source.org_id,
        source.sub_org_id as school_id,
        source.observation_template_id,
        source.assignment_id,
        source.learner_id,
        source.observer_id,
        source.rubric_id,

        ---------- properties
        source.school_year,
        source.status,

        ---------- timestamps
        source.observed_at,
        source.completed_at,
        source.created_at,
        source.updated_at,

        ---------- soft delete
        source.is_deleted,
        source.deleted_at

    from source

)

select * from final
