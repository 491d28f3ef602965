{#- One row per rubric indicator an activity is aligned to (`observationTemplates.activities.alignedIndicators`). -#}

with

source as (

    select * from {{ ref('stg_edreflect__observation_templates__activities__aligned_indicators') }}

),

roots as (

    select observation_template_id as root_id, is_deleted from {{ ref('stg_edreflect__observation_templates') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['source.parent_id', 'source.array_index']) }} as activity_indicator_key,
        source.root_id as observation_template_id,
        source.parent_id as activity_id,
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
