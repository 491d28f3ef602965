{#- One row per value recorded for an SLO assessment measure (e.g. per tier). -#}

with

source as (

    select * from {{ ref('stg_edreflect__slos__answers__assessments__measures__values') }}

),

roots as (

    select slo_id as root_id, is_deleted from {{ ref('stg_edreflect__slos') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['source.parent_id', 'source.array_index']) }} as slo_measure_value_key,
        source.root_id as slo_id,
        source.parent_id as slo_measure_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.value as measure_value,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
