{#- One row per school in a user's school list (`users.subOrgs`). -#}

with

source as (

    select * from {{ ref('stg_edreflect__users__sub_orgs') }}

),

roots as (

    select user_id as root_id, is_deleted from {{ ref('stg_edreflect__users') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['source.parent_id', 'source.array_index']) }} as user_school_key,
        source.root_id as user_id,
        source.sub_org_id as school_id,
        source.state_school_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.name as school_name,

        ---------- flags
        source.is_primary,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
