{#- One row per assignment of an observation template to learners and observers. -#}

with

source as (

    select * from {{ ref('stg_edreflect__assignments') }}

),

final as (

    select
        ---------- ids
        source.assignment_id,
        source.org_id,
        source.sub_org_id as school_id,
        source.observation_template_id,
        source.created_by as created_by_user_id,

        ---------- properties
        source.name,
        source.school_year,
        source.status,

        ---------- dates
        source.start_date,
        source.end_date,

        ---------- timestamps
        source.created_at,
        source.updated_at,

        ---------- soft delete
        source.is_deleted,
        source.deleted_at

    from source

)

select * from final
