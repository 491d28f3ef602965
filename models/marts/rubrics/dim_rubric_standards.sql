{#- One row per standard a rubric lists (`rubrics.standards`). -#}

with

rubric_standards as (

    select * from {{ ref('stg_edreflect__rubrics__standards') }}

),

rubrics as (

    select
        rubric_id,
        is_deleted
    from {{ ref('stg_edreflect__rubrics') }}

),

final as (

    select
        ---------- ids
        rubric_standards.standard_id,
        rubric_standards.root_id as rubric_id,

        ---------- properties
        rubric_standards.array_index as position_in_parent,
        rubric_standards.code,
        rubric_standards.name,
        rubric_standards.description,
        rubric_standards.source,

        ---------- soft delete
        rubrics.is_deleted

    from rubric_standards
    left join rubrics
        on rubric_standards.root_id = rubrics.rubric_id

)

select * from final
