{#- One row per identifier (course, section, student group, grade level) in an SLO answer of type `identifier`. -#}

with

source as (

    select * from {{ ref('stg_edreflect__slos__answers__identifiers') }}

),

roots as (

    select slo_id as root_id, is_deleted from {{ ref('stg_edreflect__slos') }}

),

final as (

    select
        ---------- ids
        source.identifier_id as slo_answer_identifier_id,
        source.root_id as slo_id,
        source.parent_id as slo_answer_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.identifier_type,
        source.identifier,
        source.label,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
