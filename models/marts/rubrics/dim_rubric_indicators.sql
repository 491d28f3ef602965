{#- One row per rubric indicator at any level (1-4), from int_rubric_indicators_flattened. -#}

with

indicators as (

    select * from {{ ref('int_rubric_indicators_flattened') }}

),

rubrics as (

    select
        rubric_id,
        is_deleted
    from {{ ref('stg_edreflect__rubrics') }}

),

final as (

    select
        ---------- ids
        indicators.indicator_id,
        indicators.rubric_id,
        indicators.parent_indicator_id,
        indicators.domain_indicator_id,
        indicators.standard_id,

        ---------- hierarchy
        indicators.level,
        indicators.position_in_parent,
        indicators.code_path,
        indicators.name_path,
        indicators.position_path,

        ---------- properties
        indicators.code,
        indicators.name,
        indicators.description,
        indicators.weight,
        indicators.is_scored,

        ---------- soft delete
        rubrics.is_deleted

    from indicators
    left join rubrics
        on indicators.rubric_id = rubrics.rubric_id

)

select * from final
