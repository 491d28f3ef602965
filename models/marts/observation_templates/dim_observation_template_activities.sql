{#- One row per activity of an observation template (pre-conference, observation, post-conference, ...). -#}

with

source as (

    select * from {{ ref('stg_edreflect__observation_templates__activities') }}

),

roots as (

    select observation_template_id as root_id, is_deleted from {{ ref('stg_edreflect__observation_templates') }}

),

final as (

    select
        ---------- ids
        source.activity_id,
        source.root_id as observation_template_id,
        source.rubric_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.name,
        source.description,
        source.type,

        ---------- flags
        source.is_required,
        source.is_visible_to_learner,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
