{#-
    The four rubric indicator levels (one staging model per file) as one table with `level`, the parent
    indicator and the full path. Levels are bounded at 4 (contract section 6), so the hierarchy is walked
    with three explicit self-joins instead of a recursive CTE: portable to every warehouse dbt supports.
-#}
{%- set levels = [
    (1, 'stg_edreflect__rubrics__indicators'),
    (2, 'stg_edreflect__rubrics__indicators__indicators'),
    (3, 'stg_edreflect__rubrics__indicators__indicators__indicators'),
    (4, 'stg_edreflect__rubrics__indicators__indicators__indicators__indicators'),
] -%}

with

{% for level, model in levels %}
    level_{{ level }} as (

        select
            indicator_id,
            root_id as rubric_id,
            {% if level == 1 -%}
                cast(null as {{ dbt.type_string() }}) as parent_indicator_id,
            {%- else -%}
                parent_id as parent_indicator_id,
            {%- endif %}
            {{ level }} as level,
            array_index as position_in_parent,
            code,
            name,
            description,
            weight,
            is_scored,
            standard_id

        from {{ ref(model) }}

    ),

{% endfor %}
indicators as (

    {% for level, model in levels -%}
        select * from level_{{ level }}
        {% if not loop.last %}union all
        {% endif %}
    {%- endfor %}

),

with_ancestors as (

    select
        indicators.*,
        parent.indicator_id as ancestor_1_id,
        grandparent.indicator_id as ancestor_2_id,
        great_grandparent.indicator_id as ancestor_3_id,
        parent.code as parent_code,
        grandparent.code as grandparent_code,
        great_grandparent.code as great_grandparent_code,
        parent.name as parent_name,
        grandparent.name as grandparent_name,
        great_grandparent.name as great_grandparent_name,
        cast(parent.position_in_parent as {{ dbt.type_string() }}) as parent_position,
        cast(grandparent.position_in_parent as {{ dbt.type_string() }}) as grandparent_position,
        cast(great_grandparent.position_in_parent as {{ dbt.type_string() }}) as great_grandparent_position,
        cast(indicators.position_in_parent as {{ dbt.type_string() }}) as own_position

    from indicators
    left join indicators as parent
        on indicators.parent_indicator_id = parent.indicator_id
    left join indicators as grandparent
        on parent.parent_indicator_id = grandparent.indicator_id
    left join indicators as great_grandparent
        on grandparent.parent_indicator_id = great_grandparent.indicator_id

),


final as (

    select
        ---------- ids
        indicator_id,
        rubric_id,
        parent_indicator_id,
        coalesce(ancestor_3_id, ancestor_2_id, ancestor_1_id, indicator_id) as domain_indicator_id,
        standard_id,

        ---------- hierarchy
        level,
        position_in_parent,
        {{ indicator_path('code', 'code', "' > '") }} as code_path,
        {{ indicator_path('name', 'name', "' > '") }} as name_path,
        {{ indicator_path('position', 'own_position', "'.'") }} as position_path,

        ---------- properties
        code,
        name,
        description,
        weight,
        is_scored

    from with_ancestors

)

select * from final
