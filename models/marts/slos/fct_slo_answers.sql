{#- One row per answer of an SLO to a template element; `type` says where the content is: `fct_slo_assessments`, `fct_slo_answer_identifiers` or `fct_slo_answer_details`. -#}

with

source as (

    select * from {{ ref('stg_edreflect__slos__answers') }}

),

roots as (

    select slo_id as root_id, is_deleted from {{ ref('stg_edreflect__slos') }}

),

final as (

    select
        ---------- ids
        source.answer_id as slo_answer_id,
        source.root_id as slo_id,
        source.section_id as slo_section_id,
        source.element_id as slo_element_id,
        source.answered_by as answered_by_user_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.type,

        ---------- timestamps
        source.answered_at,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
