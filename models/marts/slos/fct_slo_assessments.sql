{#- One row per assessment in an SLO answer of type `assessment`. -#}

with

source as (

    select * from {{ ref('stg_edreflect__slos__answers__assessments') }}

),

roots as (

    select slo_id as root_id, is_deleted from {{ ref('stg_edreflect__slos') }}

),

final as (

    select
        ---------- ids
        source.assessment_id as slo_assessment_id,
        source.root_id as slo_id,
        source.parent_id as slo_answer_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.name,
        source.type,
        source.max_score,
        source.student_count,

        ---------- dates
        source.administered_on,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
