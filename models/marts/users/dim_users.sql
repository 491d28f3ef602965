{#- One row per educator account (learners and observers). Holds personal data: columns tagged `pii`. -#}

with

source as (

    select * from {{ ref('stg_edreflect__users') }}

),

final as (

    select
        ---------- ids
        source.user_id,
        source.org_id,
        source.employee_id,
        source.state_staff_id,

        ---------- properties
        source.email,
        source.name_first as first_name,
        source.name_last as last_name,
        source.title,

        ---------- flags
        source.is_active,

        ---------- dates
        source.hire_date,

        ---------- timestamps
        source.last_login_at,
        source.created_at,
        source.updated_at,

        ---------- soft delete
        source.is_deleted,
        source.deleted_at

    from source

)

select * from final
