{#- One row per reflection question of a goal, with the owner's answer. -#}

with

source as (

    select * from {{ ref('stg_edreflect__goals__questions') }}

),

roots as (

    select
        goal_id as root_id,
        is_deleted
    from {{ ref('stg_edreflect__goals') }}

),

final as (

    select
        ---------- ids
        source.question_id as goal_question_id,
        source.root_id as goal_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.prompt,
        source.answer,

        ---------- flags
        source.is_required,

        ---------- timestamps
        source.answered_at,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
