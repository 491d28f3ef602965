{#- One row per report a group's members may run (`groups.reports`). -#}

{{ root_array_items(
    source='stg_edreflect__groups__reports',
    root='stg_edreflect__groups',
    root_id='group_id',
    key='group_report_key',
    ids=['source.root_id as group_id', 'source.report_key'],
    properties=['source.report_name', 'source.access'],
) }}
