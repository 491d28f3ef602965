{#- One row per user who shares a goal (owner, collaborator or viewer). -#}

with

source as (

    select * from {{ ref('stg_edreflect__goals__users') }}

),

roots as (

    select goal_id as root_id, is_deleted from {{ ref('stg_edreflect__goals') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['source.parent_id', 'source.array_index']) }} as goal_user_key,
        source.root_id as goal_id,
        source.user_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.role,

        ---------- timestamps
        source.added_at,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
