{#- One row per user who shares a goal (owner, collaborator or viewer). -#}

with

goal_users as (

    select * from {{ ref('stg_edreflect__goals__users') }}

),

goals as (

    select
        goal_id,
        is_deleted
    from {{ ref('stg_edreflect__goals') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['goal_users.parent_id', 'goal_users.array_index']) }} as goal_user_key,
        goal_users.root_id as goal_id,
        goal_users.user_id,

        ---------- properties
        goal_users.array_index as position_in_parent,
        goal_users.role,

        ---------- timestamps
        goal_users.added_at,

        ---------- soft delete
        goals.is_deleted

    from goal_users
    left join goals
        on goal_users.root_id = goals.goal_id

)

select * from final
