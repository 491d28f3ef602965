{#- One row per measure of an SLO assessment (target, actual, met). -#}

with

source as (

    select * from {{ ref('stg_edreflect__slos__answers__assessments__measures') }}

),

roots as (

    select slo_id as root_id, is_deleted from {{ ref('stg_edreflect__slos') }}

),

final as (

    select
        ---------- ids
        source.measure_id as slo_measure_id,
        source.root_id as slo_id,
        source.parent_id as slo_assessment_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.name,
        source.unit,
        source.target,
        source.actual,

        ---------- flags
        source.is_met_target,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
