{#- One row per activity of an observation template (pre-conference, observation, post-conference, ...). -#}

with

observation_template_activities as (

    select * from {{ ref('stg_edreflect__observation_templates__activities') }}

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
        observation_template_activities.activity_id,
        observation_template_activities.root_id as observation_template_id,
        observation_template_activities.rubric_id,

        ---------- properties
        observation_template_activities.array_index as position_in_parent,
        observation_template_activities.name,
        observation_template_activities.description,
        observation_template_activities.type,

        ---------- flags
        observation_template_activities.is_required,
        observation_template_activities.is_visible_to_learner,

        ---------- soft delete
        observation_templates.is_deleted

    from observation_template_activities
    left join observation_templates
        on observation_template_activities.root_id = observation_templates.observation_template_id

)

select * from final
