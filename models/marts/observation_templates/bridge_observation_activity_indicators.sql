{#-
    One row per rubric indicator an activity is aligned to
    (`observationTemplates.activities.alignedIndicators`).
-#}

with

observation_activity_indicators as (

    select * from {{ ref('stg_edreflect__observation_templates__activities__aligned_indicators') }}

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
        {{ item_key(['observation_activity_indicators.parent_id', 'observation_activity_indicators.array_index']) }}
            as activity_indicator_key,
        observation_activity_indicators.root_id as observation_template_id,
        observation_activity_indicators.parent_id as activity_id,
        observation_activity_indicators.rubric_id,
        observation_activity_indicators.indicator_id,

        ---------- properties
        observation_activity_indicators.array_index as position_in_parent,

        ---------- soft delete
        observation_templates.is_deleted

    from observation_activity_indicators
    left join observation_templates
        on observation_activity_indicators.root_id = observation_templates.observation_template_id

)

select * from final
