{#- One row per level of a rubric's scale (`rubrics.proficiencyLevels`), e.g. Developing, Proficient. -#}

with

rubric_proficiency_levels as (

    select * from {{ ref('stg_edreflect__rubrics__proficiency_levels') }}

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
        rubric_proficiency_levels.proficiency_level_id,
        rubric_proficiency_levels.root_id as rubric_id,

        ---------- properties
        rubric_proficiency_levels.array_index as position_in_parent,
        rubric_proficiency_levels.name,
        rubric_proficiency_levels.short_name,
        rubric_proficiency_levels.score,
        rubric_proficiency_levels.description,

        ---------- soft delete
        rubrics.is_deleted

    from rubric_proficiency_levels
    left join rubrics
        on rubric_proficiency_levels.root_id = rubrics.rubric_id

)

select * from final
