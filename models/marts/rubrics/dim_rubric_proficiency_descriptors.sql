{#-
    One row per proficiency-level descriptor (indicator levels 2-4 and standard-specific), from the int model.
-#}

with

descriptors as (

    select * from {{ ref('int_rubric_proficiency_descriptors_flattened') }}

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
        descriptors.descriptor_key,
        descriptors.rubric_id,
        descriptors.indicator_id,
        descriptors.standard_id,
        descriptors.proficiency_level_id,

        ---------- properties
        descriptors.descriptor_source,
        descriptors.level,
        descriptors.indicator_index,
        descriptors.position_in_list,
        descriptors.description,
        descriptors.subitems,
        descriptors.subitem_count,

        ---------- soft delete
        rubrics.is_deleted

    from descriptors
    left join rubrics
        on descriptors.rubric_id = rubrics.rubric_id

)

select * from final
