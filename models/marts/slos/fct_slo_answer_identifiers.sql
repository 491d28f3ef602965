{#-
    One row per identifier (course, section, student group, grade level) in an SLO answer of type
    `identifier`.
-#}

with

slo_answer_identifiers as (

    select * from {{ ref('stg_edreflect__slos__answers__identifiers') }}

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
        slo_answer_identifiers.identifier_id as slo_answer_identifier_id,
        slo_answer_identifiers.root_id as slo_id,
        slo_answer_identifiers.parent_id as slo_answer_id,

        ---------- properties
        slo_answer_identifiers.array_index as position_in_parent,
        slo_answer_identifiers.identifier_type,
        slo_answer_identifiers.identifier,
        slo_answer_identifiers.label,

        ---------- soft delete
        slos.is_deleted

    from slo_answer_identifiers
    left join slos
        on slo_answer_identifiers.root_id = slos.slo_id

)

select * from final
