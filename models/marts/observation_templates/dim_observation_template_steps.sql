{#- One row per step of a template activity (form, evidence, rating, meeting notes, signature). -#}

with

source as (

    select * from {{ ref('stg_edreflect__observation_templates__activities__steps') }}

),

roots as (

    select observation_template_id as root_id, is_deleted from {{ ref('stg_edreflect__observation_templates') }}

),

final as (

    select
        ---------- ids
        source.step_id,
        source.root_id as observation_template_id,
        source.parent_id as activity_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.name,
        source.type,
        source.assignee,
        source.due_days,

        ---------- flags
        source.is_required,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
