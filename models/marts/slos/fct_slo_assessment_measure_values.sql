{#- One row per value recorded for an SLO assessment measure (e.g. per tier). -#}

with

slo_assessment_measure_values as (

    select * from {{ ref('stg_edreflect__slos__answers__assessments__measures__values') }}

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
        {{ item_key(['slo_assessment_measure_values.parent_id', 'slo_assessment_measure_values.array_index']) }}
            as slo_measure_value_key,
        slo_assessment_measure_values.root_id as slo_id,
        slo_assessment_measure_values.parent_id as slo_measure_id,

        ---------- properties
        slo_assessment_measure_values.array_index as position_in_parent,
        slo_assessment_measure_values.value as measure_value,

        ---------- soft delete
        slos.is_deleted

    from slo_assessment_measure_values
    left join slos
        on slo_assessment_measure_values.root_id = slos.slo_id

)

select * from final
