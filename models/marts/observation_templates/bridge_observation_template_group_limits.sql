{#- One row per group a template is limited to: learnerGroupLimits and observerGroupLimits as one bridge. -#}

{{ learner_observer_lists(
    learner_source='stg_edreflect__observation_templates__learner_group_limits',
    observer_source='stg_edreflect__observation_templates__observer_group_limits',
    root='stg_edreflect__observation_templates',
    root_id='observation_template_id',
    key='template_group_limit_key',
    value_column='group_id',
    role_column='limit_type',
) }}
