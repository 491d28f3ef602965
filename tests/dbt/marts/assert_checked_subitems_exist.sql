{{ config(severity='warn') }}
-- A checked sub-item index should point at a line of the chosen level's descriptor (contract section 6).
-- Warn (not fail): the check row is kept either way, with an empty sub-item text.
select
    'observation' as source,
    subitem_check_key,
    subitem_index
from {{ ref('fct_observation_indicator_subitem_checks') }}
where subitem_key is null
union all
select
    'rating' as source,
    subitem_check_key,
    subitem_index
from {{ ref('fct_rating_indicator_subitem_checks') }}
where subitem_key is null
