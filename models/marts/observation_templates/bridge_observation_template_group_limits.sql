{#- One row per group a template is limited to: learnerGroupLimits and observerGroupLimits as one bridge. -#}

with

members as (

    select
        'learner' as limit_type,
        *
    from {{ ref('stg_edreflect__observation_templates__learner_group_limits') }}
    union all
    select
        'observer' as limit_type,
        *
    from {{ ref('stg_edreflect__observation_templates__observer_group_limits') }}

),

observation_templates as (

    select
        observation_template_id,
        is_deleted
    from {{ ref('stg_edreflect__observation_templates') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['members.parent_id', 'members.limit_type', 'members.array_index']) }} as template_group_limit_key,
        members.root_id as observation_template_id,
        members.value as group_id,

        ---------- properties
        members.limit_type,
        members.array_index as position_in_parent,

        ---------- soft delete
        observation_templates.is_deleted

    from members
    left join observation_templates
        on members.root_id = observation_templates.observation_template_id

)

select * from final
