{#- One row per rubric indicator a goal is aligned to (`goals.alignedIndicators`). -#}

with

source as (

    select * from {{ ref('stg_edreflect__goals__aligned_indicators') }}

),

roots as (

    select goal_id as root_id, is_deleted from {{ ref('stg_edreflect__goals') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['source.parent_id', 'source.array_index']) }} as goal_indicator_key,
        source.root_id as goal_id,
        source.rubric_id,
        source.indicator_id,

        ---------- properties
        source.array_index as position_in_parent,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
