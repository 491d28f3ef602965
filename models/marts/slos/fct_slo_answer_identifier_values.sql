{#- One row per value of a multi-valued SLO answer identifier. -#}

with

source as (

    select * from {{ ref('stg_edreflect__slos__answers__identifiers__values') }}

),

roots as (

    select slo_id as root_id, is_deleted from {{ ref('stg_edreflect__slos') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['source.parent_id', 'source.array_index']) }} as slo_identifier_value_key,
        source.root_id as slo_id,
        source.parent_id as slo_answer_identifier_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.value as identifier_value,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
