{#- One row per evaluation in an activity work: a rubric scored by an observer, a peer or (type `self`) the learner. -#}

with

source as (

    select * from {{ ref('stg_edreflect__observations__work__evaluations') }}

),

roots as (

    select observation_id as root_id, is_deleted from {{ ref('stg_edreflect__observations') }}

),

final as (

    select
        ---------- ids
        source.evaluation_id,
        source.root_id as observation_id,
        source.parent_id as work_id,
        source.rubric_id,
        source.evaluator_id,
        source.overall_proficiency_level_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.type,
        source.overall_score,

        ---------- timestamps
        source.submitted_at,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
