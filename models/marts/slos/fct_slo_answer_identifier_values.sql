{#- One row per value of a multi-valued SLO answer identifier. -#}

with

slo_answer_identifier_values as (

    select * from {{ ref('stg_edreflect__slos__answers__identifiers__values') }}

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
        {{ item_key(['slo_answer_identifier_values.parent_id', 'slo_answer_identifier_values.array_index']) }}
            as slo_identifier_value_key,
        slo_answer_identifier_values.root_id as slo_id,
        slo_answer_identifier_values.parent_id as slo_answer_identifier_id,

        ---------- properties
        slo_answer_identifier_values.array_index as position_in_parent,
        slo_answer_identifier_values.value as identifier_value,

        ---------- soft delete
        slos.is_deleted

    from slo_answer_identifier_values
    left join slos
        on slo_answer_identifier_values.root_id = slos.slo_id

)

select * from final
