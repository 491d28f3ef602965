{#- One row per platform role whose holders may manage a group (`groups.roles`). -#}

with

source as (

    select * from {{ ref('stg_edreflect__groups__roles') }}

),

roots as (

    select group_id as root_id, is_deleted from {{ ref('stg_edreflect__groups') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['source.parent_id', 'source.array_index']) }} as group_role_key,
        source.root_id as group_id,

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
