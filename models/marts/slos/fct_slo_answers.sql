{#-
    One row per answer of an SLO to a template element; `type` says where the content is:
    `fct_slo_assessments`, `fct_slo_answer_identifiers` or `fct_slo_answer_details`.
-#}

with

slo_answers as (

    select * from {{ ref('stg_edreflect__slos__answers') }}

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
        slo_answers.answer_id as slo_answer_id,
        slo_answers.root_id as slo_id,
        slo_answers.section_id as slo_section_id,
        slo_answers.element_id as slo_element_id,
        slo_answers.answered_by as answered_by_user_id,

        ---------- properties
        slo_answers.array_index as position_in_parent,
        slo_answers.type,

        ---------- timestamps
        slo_answers.answered_at,

        ---------- soft delete
        slos.is_deleted

    from slo_answers
    left join slos
        on slo_answers.root_id = slos.slo_id

)

select * from final
