{#- One row per form element (question) of a template form. -#}

with

observation_template_form_elements as (

    select * from {{ ref('stg_edreflect__observation_templates__activities__steps__forms__elements') }}

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
        observation_template_form_elements.element_id,
        observation_template_form_elements.root_id as observation_template_id,
        observation_template_form_elements.parent_id as form_id,
        observation_template_form_elements.indicator_id,

        ---------- properties
        observation_template_form_elements.array_index as position_in_parent,
        observation_template_form_elements.label,
        observation_template_form_elements.type,
        observation_template_form_elements.help_text,

        ---------- flags
        observation_template_form_elements.is_required,

        ---------- soft delete
        observation_templates.is_deleted

    from observation_template_form_elements
    left join observation_templates
        on observation_template_form_elements.root_id = observation_templates.observation_template_id

)

select * from final
