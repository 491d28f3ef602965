{#- One row per choice of a choice-type form element. -#}

with

observation_template_form_element_choices as (

    select * from {{ ref('stg_edreflect__observation_templates__activities__steps__forms__elements__choices') }}

),

observation_templates as (

    select
        observation_template_id,
        is_deleted
    from {{ ref('stg_edreflect__observation_templates') }}

),

final as (

    select
        ---------- ids
        observation_template_form_element_choices.choice_id,
        observation_template_form_element_choices.root_id as observation_template_id,
        observation_template_form_element_choices.parent_id as element_id,

        ---------- properties
        observation_template_form_element_choices.array_index as position_in_parent,
        observation_template_form_element_choices.label,
        observation_template_form_element_choices.value,
        observation_template_form_element_choices.score,

        ---------- soft delete
        observation_templates.is_deleted

    from observation_template_form_element_choices
    left join observation_templates
        on observation_template_form_element_choices.root_id = observation_templates.observation_template_id

)

select * from final
