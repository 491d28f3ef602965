{#- One row per platform role held by a user (`users.roles`). -#}

with

source as (

    select * from {{ ref('stg_edreflect__users__roles') }}

),

roots as (

    select user_id as root_id, is_deleted from {{ ref('stg_edreflect__users') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['source.parent_id', 'source.array_index']) }} as user_role_key,
        source.root_id as user_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.value as role_name,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
