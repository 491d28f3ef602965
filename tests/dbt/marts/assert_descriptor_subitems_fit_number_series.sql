-- int_rubric_descriptor_subitems_split numbers lines with a 0..999 series: a descriptor with more
-- sub-item lines would lose the rest silently, so such a descriptor fails the build here.
select
    descriptor_key,
    subitem_count
from {{ ref('int_rubric_proficiency_descriptors_flattened') }}
where subitem_count > 1000
