{#-
    The shapes many marts share, written once. Each macro renders a whole model (`with ... select * from final`)
    so that the compiled SQL still reads top-down with CTEs; the model file is the call and its doc comment.
-#}

{#-
    One row per item of an array of a root document (`source`, a staging model with `root_id`, `parent_id` and
    `array_index`), carrying the root document's `is_deleted` (README: an array item inherits its document's
    flag). Columns, in this order: `key` (`<parent id>#<position>`, when the item has no id of its own), `ids`,
    then `position_in_parent` and `properties`, `dates`, `timestamps`, `flags`, and `is_deleted`. The column
    lists are select expressions over the alias `source`, e.g. `'source.root_id as goal_id'`,
    `'source.value as user_id'`; each list is a section of the select under its comment ruler.
-#}
{% macro root_array_items(source, root, root_id, ids, key=none, properties=[], dates=[], timestamps=[], flags=[]) -%}
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
        {%- if dates %}

        ---------- dates
        {%- for column in dates %}
        {{ column }},
        {%- endfor %}
        {%- endif %}
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

{#-
    One row per indicator scored in a set of scores (`scores_source`: an observation evaluation's or a rating's
    `indicators`), with the context an analyst filters on so that the common questions need no further joins:
    the set (`parent_*`: the CTE name, staging model and id column), the root document (`root_*`), the
    indicator's level and code path, the chosen level's name and score. `context_ids` and `context_properties`
    are the set's and the document's own columns (select expressions over the two CTE names), placed after the
    set's id and after `position_in_parent`; `note_column` is the score's free text.
-#}
{% macro indicator_scores(
    scores_source, score_id,
    parent_cte, parent_source, parent_id,
    root_cte, root_source, root_id,
    context_ids, context_properties, note_column
) -%}
with

scores as (

    select * from {{ ref(scores_source) }}

),

{{ parent_cte }} as (

    select * from {{ ref(parent_source) }}

),

{{ root_cte }} as (

    select * from {{ ref(root_source) }}

),

indicators as (

    select * from {{ ref('int_rubric_indicators_flattened') }}

),

levels as (

    select * from {{ ref('stg_edreflect__rubrics__proficiency_levels') }}

),

final as (

    select
        ---------- ids
        scores.{{ score_id }},
        scores.root_id as {{ root_id }},
        scores.parent_id as {{ parent_id }},
        {%- for column in context_ids %}
        {{ column }},
        {%- endfor %}
        scores.indicator_id,
        scores.proficiency_level_id,

        ---------- properties
        scores.array_index as position_in_parent,
        {%- for column in context_properties %}
        {{ column }},
        {%- endfor %}
        indicators.level as indicator_level,
        indicators.code_path as indicator_code_path,
        levels.name as proficiency_level_name,
        levels.score as proficiency_level_score,
        scores.score,
        scores.{{ note_column }},

        ---------- flags
        scores.is_not_applicable,
        -- a vendor contract violation kept, not dropped: the indicator or the chosen level belongs to
        -- another rubric than the evaluation's (the `assert_scored_indicators_belong_to_the_rubric` warning)
        coalesce(indicators.rubric_id <> {{ parent_cte }}.rubric_id, false)
            or coalesce(levels.root_id <> {{ parent_cte }}.rubric_id, false) as is_off_rubric,

        ---------- soft delete
        {{ root_cte }}.is_deleted

    from scores
    left join {{ parent_cte }}
        on scores.parent_id = {{ parent_cte }}.{{ parent_id }}
    left join {{ root_cte }}
        on scores.root_id = {{ root_cte }}.{{ root_id }}
    left join indicators
        on scores.indicator_id = indicators.indicator_id
    left join levels
        on scores.proficiency_level_id = levels.proficiency_level_id

)

select * from final
{%- endmacro %}
