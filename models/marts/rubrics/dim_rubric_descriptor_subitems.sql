{#- One row per sub-item (look-for) line of a proficiency-level descriptor, from the int model. -#}

with

subitems as (

    select * from {{ ref('int_rubric_descriptor_subitems_split') }}

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
        subitems.subitem_key,
        subitems.descriptor_key,
        subitems.rubric_id,
        subitems.indicator_id,
        subitems.standard_id,
        subitems.proficiency_level_id,

        ---------- properties
        subitems.descriptor_source,
        subitems.subitem_index,
        subitems.subitem_text,

        ---------- soft delete
        rubrics.is_deleted

    from subitems
    left join rubrics
        on subitems.rubric_id = rubrics.rubric_id

)

select * from final
