{#- One row per group assigned (assignments.learnerGroups / assignments.observerGroups), with the role as assignment_role. -#}

{{ learner_observer_lists(
    learner_source='stg_edreflect__assignments__learner_groups',
    observer_source='stg_edreflect__assignments__observer_groups',
    root='stg_edreflect__assignments',
    root_id='assignment_id',
    key='assignment_group_key',
    value_column='group_id',
    role_column='assignment_role',
) }}
