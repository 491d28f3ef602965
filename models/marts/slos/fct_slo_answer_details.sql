{#- One row per detail (text or HTML content) of an SLO answer that is not an assessment or identifier. -#}

with

slo_answer_details as (

    select * from {{ ref('stg_edreflect__slos__answers__details') }}

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
        slo_answer_details.detail_id as slo_answer_detail_id,
        slo_answer_details.root_id as slo_id,
        slo_answer_details.parent_id as slo_answer_id,

        ---------- properties
        slo_answer_details.array_index as position_in_parent,
        slo_answer_details.format,
        slo_answer_details.content,

        ---------- soft delete
        slos.is_deleted

    from slo_answer_details
    left join slos
        on slo_answer_details.root_id = slos.slo_id

)

select * from final
