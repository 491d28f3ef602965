{#- One row per detail (text or HTML content) of an SLO answer that is not an assessment or identifier. -#}

with

source as (

    select * from {{ ref('stg_edreflect__slos__answers__details') }}

),

roots as (

    select slo_id as root_id, is_deleted from {{ ref('stg_edreflect__slos') }}

),

final as (

    select
        ---------- ids
        source.detail_id as slo_answer_detail_id,
        source.root_id as slo_id,
        source.parent_id as slo_answer_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.format,
        source.content,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
