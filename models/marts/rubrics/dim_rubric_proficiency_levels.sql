{#- One row per level of a rubric's scale (`rubrics.proficiencyLevels`), e.g. Developing, Proficient. -#}

{{ root_array_items(
    source='stg_edreflect__rubrics__proficiency_levels',
    root='stg_edreflect__rubrics',
    root_id='rubric_id',
    ids=['source.proficiency_level_id', 'source.root_id as rubric_id'],
    properties=['source.name', 'source.short_name', 'source.score', 'source.description'],
) }}
