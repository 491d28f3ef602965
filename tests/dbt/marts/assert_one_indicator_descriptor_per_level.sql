-- An indicator has at most one descriptor per proficiency level (contract section 6: a descriptor row is keyed
-- by its indicator and proficiencyLevelId). The sub-item checks join on that pair, so a duplicate would
-- double their rows; rows returned are the duplicated pairs.
select
    indicator_id,
    proficiency_level_id,
    count(*) as descriptors
from {{ ref('dim_rubric_proficiency_descriptors') }}
where descriptor_source = 'indicator'
group by indicator_id, proficiency_level_id
having count(*) > 1
