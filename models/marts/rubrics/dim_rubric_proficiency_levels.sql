{#- One row per level of a rubric's scale (`rubrics.proficiencyLevels`), e.g. Developing, Proficient. -#}

with

source as (

    select * from {{ ref('stg_edreflect__rubrics__proficiency_levels') }}

),

roots as (

    select rubric_id as root_id, is_deleted from {{ ref('stg_edreflect__rubrics') }}

),

final as (

    select
        ---------- ids
        source.proficiency_level_id,
        source.root_id as rubric_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.name,
        source.short_name,
        source.score,
        source.description,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
