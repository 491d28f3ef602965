{#- One row per form of a template step. -#}

with

observation_template_forms as (

    select * from {{ ref('stg_edreflect__observation_templates__activities__steps__forms') }}

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
        observation_template_forms.form_id,
        observation_template_forms.root_id as observation_template_id,
        observation_template_forms.parent_id as step_id,

        ---------- properties
        observation_template_forms.array_index as position_in_parent,
        observation_template_forms.title,
        observation_template_forms.instructions,

        ---------- soft delete
        observation_templates.is_deleted

    from observation_template_forms
    left join observation_templates
        on observation_template_forms.root_id = observation_templates.observation_template_id

)

select * from final
