{#- One row per report a group's members may run (`groups.reports`). -#}

with

source as (

    select * from {{ ref('stg_edreflect__groups__reports') }}

),

roots as (

    select group_id as root_id, is_deleted from {{ ref('stg_edreflect__groups') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['source.parent_id', 'source.array_index']) }} as group_report_key,
        source.root_id as group_id,
        source.report_key,

        ---------- properties
        source.array_index as position_in_parent,
        source.report_name,
        source.access,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
