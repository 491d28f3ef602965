{#- One row per choice of an SLO template element. -#}

with

slo_template_element_choices as (

    select * from {{ ref('stg_edreflect__slo_templates__sections__elements__choices') }}

),

slo_templates as (

    select
        slo_template_id,
        is_deleted
    from {{ ref('stg_edreflect__slo_templates') }}

),

final as (

    select
        ---------- ids
        slo_template_element_choices.choice_id as slo_choice_id,
        slo_template_element_choices.root_id as slo_template_id,
        slo_template_element_choices.parent_id as slo_element_id,

        ---------- properties
        slo_template_element_choices.array_index as position_in_parent,
        slo_template_element_choices.label,
        slo_template_element_choices.value,
        slo_template_element_choices.score,

        ---------- soft delete
        slo_templates.is_deleted

    from slo_template_element_choices
    left join slo_templates
        on slo_template_element_choices.root_id = slo_templates.slo_template_id

)

select * from final
