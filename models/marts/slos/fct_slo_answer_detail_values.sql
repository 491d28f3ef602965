{#- One row per value chosen in a multi-choice SLO answer detail. -#}

with

slo_answer_detail_values as (

    select * from {{ ref('stg_edreflect__slos__answers__details__values') }}

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
        {{ item_key(['slo_answer_detail_values.parent_id', 'slo_answer_detail_values.array_index']) }} as slo_detail_value_key,
        slo_answer_detail_values.root_id as slo_id,
        slo_answer_detail_values.parent_id as slo_answer_detail_id,

        ---------- properties
        slo_answer_detail_values.array_index as position_in_parent,
        slo_answer_detail_values.value as detail_value,

        ---------- soft delete
        slos.is_deleted

    from slo_answer_detail_values
    left join slos
        on slo_answer_detail_values.root_id = slos.slo_id

)

select * from final
