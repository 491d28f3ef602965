{#- One row per goal an evidence supports (`evidences.goals`). -#}

with

source as (

    select * from {{ ref('stg_edreflect__evidences__goals') }}

),

roots as (

    select evidence_id as root_id, is_deleted from {{ ref('stg_edreflect__evidences') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['source.parent_id', 'source.array_index']) }} as evidence_goal_key,
        source.root_id as evidence_id,
        source.value as goal_id,

        ---------- properties
        source.array_index as position_in_parent,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
