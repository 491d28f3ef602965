{#- One row per rubric a group's members are evaluated on (`groups.rubrics`). -#}

with

group_rubrics as (

    select * from {{ ref('stg_edreflect__groups__rubrics') }}

),

groups as (

    select
        group_id,
        is_deleted
    from {{ ref('stg_edreflect__groups') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['group_rubrics.parent_id', 'group_rubrics.array_index']) }} as group_rubric_key,
        group_rubrics.root_id as group_id,
        group_rubrics.value as rubric_id,

        ---------- properties
        group_rubrics.array_index as position_in_parent,

        ---------- soft delete
        groups.is_deleted

    from group_rubrics
    left join groups
        on group_rubrics.root_id = groups.group_id

)

select * from final
