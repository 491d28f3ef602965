{#- One row per rubric indicator a goal is aligned to (`goals.alignedIndicators`). -#}

with

goal_indicators as (

    select * from {{ ref('stg_edreflect__goals__aligned_indicators') }}

),

goals as (

    select
        goal_id,
        is_deleted
    from {{ ref('stg_edreflect__goals') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['goal_indicators.parent_id', 'goal_indicators.array_index']) }} as goal_indicator_key,
        goal_indicators.root_id as goal_id,
        goal_indicators.rubric_id,
        goal_indicators.indicator_id,

        ---------- properties
        goal_indicators.array_index as position_in_parent,

        ---------- soft delete
        goals.is_deleted

    from goal_indicators
    left join goals
        on goal_indicators.root_id = goals.goal_id

)

select * from final
