{#- One row per rubric a group's members are evaluated on (`groups.rubrics`). -#}

with

source as (

    select * from {{ ref('stg_edreflect__groups__rubrics') }}

),

roots as (

    select group_id as root_id, is_deleted from {{ ref('stg_edreflect__groups') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['source.parent_id', 'source.array_index']) }} as group_rubric_key,
        source.root_id as group_id,
        source.value as rubric_id,

        ---------- properties
        source.array_index as position_in_parent,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
