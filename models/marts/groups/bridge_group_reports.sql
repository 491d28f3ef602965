{#- One row per report a group's members may run (`groups.reports`). -#}

with

group_reports as (

    select * from {{ ref('stg_edreflect__groups__reports') }}

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
        {{ item_key(['group_reports.parent_id', 'group_reports.array_index']) }} as group_report_key,
        group_reports.root_id as group_id,
        group_reports.report_key,

        ---------- properties
        group_reports.array_index as position_in_parent,
        group_reports.report_name,
        group_reports.access,

        ---------- soft delete
        groups.is_deleted

    from group_reports
    left join groups
        on group_reports.root_id = groups.group_id

)

select * from final
