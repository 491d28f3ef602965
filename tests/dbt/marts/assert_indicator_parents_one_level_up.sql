-- Every indicator below level 1 has its parent in dim_rubric_indicators, exactly one level up and in the same
-- rubric; level-1 indicators (domains) have no parent indicator. Rows returned are the violations.
select
    child.indicator_id,
    child.level,
    child.parent_indicator_id,
    parent.level as parent_level
from {{ ref('dim_rubric_indicators') }} as child
left join {{ ref('dim_rubric_indicators') }} as parent
    on child.parent_indicator_id = parent.indicator_id
where
    (child.level = 1 and child.parent_indicator_id is not null)
    or (child.level > 1 and parent.indicator_id is null)
    or (child.level > 1 and parent.level <> child.level - 1)
    or (child.level > 1 and parent.rubric_id <> child.rubric_id)
