{#- One row per user assigned directly (assignments.learners / assignments.observers), with the role as assignment_role. -#}

{{ learner_observer_lists(
    learner_source='stg_edreflect__assignments__learners',
    observer_source='stg_edreflect__assignments__observers',
    root='stg_edreflect__assignments',
    root_id='assignment_id',
    key='assignment_user_key',
    value_column='user_id',
    role_column='assignment_role',
) }}
