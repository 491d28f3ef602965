{#- One row per group a template is limited to: learnerGroupLimits and observerGroupLimits as one bridge. -#}

with

limits as (

    select 'learner' as limit_type, * from {{ ref('stg_edreflect__observation_templates__learner_group_limits') }}
    union all
    select 'observer' as limit_type, * from {{ ref('stg_edreflect__observation_templates__observer_group_limits') }}

),

templates as (

    select observation_template_id, is_deleted from {{ ref('stg_edreflect__observation_templates') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['limits.parent_id', 'limits.limit_type', 'limits.array_index']) }} as template_group_limit_key,
        limits.root_id as observation_template_id,
        limits.value as group_id,

        ---------- properties
        limits.limit_type,
        limits.array_index as position_in_parent,

        ---------- soft delete
        templates.is_deleted

    from limits
    left join templates
        on limits.root_id = templates.observation_template_id

)

select * from final
