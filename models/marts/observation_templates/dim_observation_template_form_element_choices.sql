{#- One row per choice of a choice-type form element. -#}

with

source as (

    select * from {{ ref('stg_edreflect__observation_templates__activities__steps__forms__elements__choices') }}

),

roots as (

    select observation_template_id as root_id, is_deleted from {{ ref('stg_edreflect__observation_templates') }}

),

final as (

    select
        ---------- ids
        source.choice_id,
        source.root_id as observation_template_id,
        source.parent_id as element_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.label,
        source.value,
        source.score,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
