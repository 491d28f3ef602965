{#-
    The shapes many marts share, written once. Each macro renders a whole model (`with ... select * from final`)
    so that the compiled SQL still reads top-down with CTEs; the model file is the call and its doc comment.
-#}

{#-
    One row per item of an array of a root document (`source`, a staging model with `root_id`, `parent_id` and
    `array_index`), carrying the root document's `is_deleted` (README: an array item inherits its document's
    flag). Columns, in this order: `key` (`<parent id>#<position>`, when the item has no id of its own), `ids`,
    then `position_in_parent` and `properties`, `timestamps`, `flags`, and `is_deleted`. The column lists are
    select expressions over the alias `source`, e.g. `'source.root_id as goal_id'`, `'source.value as user_id'`.
-#}
{% macro root_array_items(source, root, root_id, ids, key=none, properties=[], timestamps=[], flags=[]) -%}
with

source as (

    select * from {{ ref(source) }}

),

roots as (

    select {{ root_id }} as root_id, is_deleted from {{ ref(root) }}

),

final as (

    select
        ---------- ids
        {%- if key %}
        {{ item_key(['source.parent_id', 'source.array_index']) }} as {{ key }},
        {%- endif %}
        {%- for column in ids %}
        {{ column }},
        {%- endfor %}

        ---------- properties
        source.array_index as position_in_parent,
        {%- for column in properties %}
        {{ column }},
        {%- endfor %}
        {%- if timestamps %}

        ---------- timestamps
        {%- for column in timestamps %}
        {{ column }},
        {%- endfor %}
        {%- endif %}
        {%- if flags %}

        ---------- flags
        {%- for column in flags %}
        {{ column }},
        {%- endfor %}
        {%- endif %}

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
{%- endmacro %}

{#-
    One bridge from a root document's two plain-value lists of the same thing, one for learners and one for
    observers (`assignments.learners` / `assignments.observers`, `observationTemplates.learnerGroupLimits` /
    `observerGroupLimits`). `role_column` says which list a row came from ('learner' or 'observer'); the key is
    `<parent id>#<role>#<position>` since the positions of the two lists overlap.
-#}
{% macro learner_observer_lists(learner_source, observer_source, root, root_id, key, value_column, role_column) -%}
with

members as (

    select 'learner' as {{ role_column }}, * from {{ ref(learner_source) }}
    union all
    select 'observer' as {{ role_column }}, * from {{ ref(observer_source) }}

),

roots as (

    select {{ root_id }} as root_id, is_deleted from {{ ref(root) }}

),

final as (

    select
        ---------- ids
        {{ item_key(['members.parent_id', 'members.' ~ role_column, 'members.array_index']) }} as {{ key }},
        members.root_id as {{ root_id }},
        members.value as {{ value_column }},

        ---------- properties
        members.{{ role_column }},
        members.array_index as position_in_parent,

        ---------- soft delete
        roots.is_deleted

    from members
    left join roots
        on members.root_id = roots.root_id

)

select * from final
{%- endmacro %}

{#-
    One row per sub-item (look-for) checked for the chosen level of a scored indicator (`checks_source`, the
    `proficiencyLevelSubitemIndex` list of a scored indicator in `scores_source`). The checked index is a line
    number of the descriptor of (indicator, chosen level) (contract section 6); the line's text comes from
    dim_rubric_descriptor_subitems' source, int_rubric_descriptor_subitems_split. `score_id` is the scored
    indicator's id column, `root_id` the root document's.
-#}
{% macro indicator_subitem_checks(checks_source, scores_source, score_id, root, root_id) -%}
with

checks as (

    select * from {{ ref(checks_source) }}

),

scores as (

    select {{ score_id }}, indicator_id, proficiency_level_id from {{ ref(scores_source) }}

),

subitems as (

    select * from {{ ref('int_rubric_descriptor_subitems_split') }}
    where descriptor_source = 'indicator'

),

roots as (

    select {{ root_id }}, is_deleted from {{ ref(root) }}

),

final as (

    select
        ---------- ids
        {{ item_key(['checks.parent_id', 'checks.array_index']) }} as subitem_check_key,
        checks.root_id as {{ root_id }},
        checks.parent_id as {{ score_id }},
        scores.indicator_id,
        scores.proficiency_level_id,
        subitems.subitem_key,

        ---------- properties
        checks.array_index as position_in_parent,
        checks.value as subitem_index,
        subitems.subitem_text,

        ---------- soft delete
        roots.is_deleted

    from checks
    left join scores
        on checks.parent_id = scores.{{ score_id }}
    left join subitems
        on scores.indicator_id = subitems.indicator_id
        and scores.proficiency_level_id = subitems.proficiency_level_id
        and checks.value = subitems.subitem_index
    left join roots
        on checks.root_id = roots.{{ root_id }}

)

select * from final
{%- endmacro %}
