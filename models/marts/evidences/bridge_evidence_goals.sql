{#- One row per goal an evidence supports (`evidences.goals`). -#}

with

evidence_goals as (

    select * from {{ ref('stg_edreflect__evidences__goals') }}

),

evidences as (

    select
        evidence_id,
        is_deleted
    from {{ ref('stg_edreflect__evidences') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['evidence_goals.parent_id', 'evidence_goals.array_index']) }} as evidence_goal_key,
        evidence_goals.root_id as evidence_id,
        evidence_goals.value as goal_id,

        ---------- properties
        evidence_goals.array_index as position_in_parent,

        ---------- soft delete
        evidences.is_deleted

    from evidence_goals
    left join evidences
        on evidence_goals.root_id = evidences.evidence_id

)

select * from final
