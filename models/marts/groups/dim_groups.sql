{#- One row per group (learner, observer or report group). -#}

with

source as (

    select * from {{ ref('stg_edreflect__groups') }}

),

final as (

    select
        ---------- ids
        source.group_id,
        source.org_id,
        source.sub_org_id as school_id,

        ---------- properties
        source.name,
        {{ display_text('source.name') }} as display_name,
        source.description,
        source.type,
        source.category,
        {{ normalized_category('source.category') }} as normalized_category,
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
