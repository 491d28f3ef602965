{#- One row per school in a user's school list (`users.subOrgs`). -#}

with

user_schools as (

    select * from {{ ref('stg_edreflect__users__sub_orgs') }}

),

users as (

    select
        user_id,
        is_deleted
    from {{ ref('stg_edreflect__users') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['user_schools.parent_id', 'user_schools.array_index']) }} as user_school_key,
        user_schools.root_id as user_id,
        user_schools.sub_org_id as school_id,
        user_schools.state_school_id,

        ---------- properties
        user_schools.array_index as position_in_parent,
        user_schools.name as school_name,

        ---------- flags
        user_schools.is_primary,

        ---------- soft delete
        users.is_deleted

    from user_schools
    left join users
        on user_schools.root_id = users.user_id

)

select * from final
