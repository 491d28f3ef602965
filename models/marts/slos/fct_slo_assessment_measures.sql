{#- One row per measure of an SLO assessment (target, actual, met). -#}

with

slo_assessment_measures as (

    select * from {{ ref('stg_edreflect__slos__answers__assessments__measures') }}

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
        slo_assessment_measures.measure_id as slo_measure_id,
        slo_assessment_measures.root_id as slo_id,
        slo_assessment_measures.parent_id as slo_assessment_id,

        ---------- properties
        slo_assessment_measures.array_index as position_in_parent,
        slo_assessment_measures.name,
        slo_assessment_measures.unit,
        slo_assessment_measures.target,
        slo_assessment_measures.actual,

        ---------- flags
        slo_assessment_measures.is_met_target,

        ---------- soft delete
        slos.is_deleted

    from slo_assessment_measures
    left join slos
        on slo_assessment_measures.root_id = slos.slo_id

)

select * from final
