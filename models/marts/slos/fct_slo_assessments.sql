{#- One row per assessment in an SLO answer of type `assessment`. -#}

with

slo_assessments as (

    select * from {{ ref('stg_edreflect__slos__answers__assessments') }}

),

slos as (

    select
        slo_id,
        is_deleted
    from {{ ref('stg_edreflect__slos') }}

),

final as (

    select
        ---------- ids
        slo_assessments.assessment_id as slo_assessment_id,
        slo_assessments.root_id as slo_id,
        slo_assessments.parent_id as slo_answer_id,

        ---------- properties
        slo_assessments.array_index as position_in_parent,
        slo_assessments.name,
        slo_assessments.type,
        slo_assessments.max_score,
        slo_assessments.student_count,

        ---------- dates
        slo_assessments.administered_on,

        ---------- soft delete
        slos.is_deleted

    from slo_assessments
    left join slos
        on slo_assessments.root_id = slos.slo_id

)

select * from final
