{#- One row per standard a rubric lists (`rubrics.standards`). -#}

with

source as (

    select * from {{ ref('stg_edreflect__rubrics__standards') }}

),

roots as (

    select rubric_id as root_id, is_deleted from {{ ref('stg_edreflect__rubrics') }}

),

final as (

    select
        ---------- ids
        source.standard_id,
        source.root_id as rubric_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.code,
        source.name,
        source.description,
        source.source,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
