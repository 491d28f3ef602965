{#- One row per step of a template activity (form, evidence, rating, meeting notes, signature). -#}

with

observation_template_steps as (

    select * from {{ ref('stg_edreflect__observation_templates__activities__steps') }}

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
        observation_template_steps.step_id,
        observation_template_steps.root_id as observation_template_id,
        observation_template_steps.parent_id as activity_id,

        ---------- properties
        observation_template_steps.array_index as position_in_parent,
        observation_template_steps.name,
        observation_template_steps.type,
        observation_template_steps.assignee,
        observation_template_steps.due_days,

        ---------- flags
        observation_template_steps.is_required,

        ---------- soft delete
        observation_templates.is_deleted

    from observation_template_steps
    left join observation_templates
        on observation_template_steps.root_id = observation_templates.observation_template_id

)

select * from final
