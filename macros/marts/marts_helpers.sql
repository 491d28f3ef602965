{#- Small portable helpers for the intermediate and marts layers. -#}

{#- Key of an array item that has no `_id` of its own: `<parent id>#<index>[#<index>...]` (contract section 5). -#}
{% macro item_key(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- if not loop.first %}{% do parts.append("'#'") %}{% endif -%}
        {%- do parts.append("cast(" ~ column ~ " as " ~ dbt.type_string() ~ ")") -%}
    {%- endfor -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}

{#- The line-feed character; `chr` is understood by DuckDB, Postgres, Snowflake, Spark and Trino. -#}
{% macro newline_char() -%}
    {{ return(adapter.dispatch('newline_char')()) }}
{%- endmacro %}

{% macro default__newline_char() -%}
    chr(10)
{%- endmacro %}

{% macro bigquery__newline_char() -%}
    '\n'
{%- endmacro %}

{#- The carriage-return character (CRLF line ends inside sub-item lists are read as LF). -#}
{% macro carriage_return_char() -%}
    {{ return(adapter.dispatch('carriage_return_char')()) }}
{%- endmacro %}

{% macro default__carriage_return_char() -%}
    chr(13)
{%- endmacro %}

{% macro bigquery__carriage_return_char() -%}
    '\r'
{%- endmacro %}

{#- Integers 0 .. 10^digits - 1 as column `n`, from cross-joined digits (no generate_series needed). -#}
{% macro integers_below_power_of_ten(digits=3) -%}
    {%- set powers = [] -%}
    {%- for d in range(digits) -%}{%- do powers.append("d" ~ d ~ ".digit * " ~ (10 ** d)) -%}{%- endfor -%}
    select {{ powers | join(' + ') }} as n
    from
    {%- for d in range(digits) %}
        (
            select 0 as digit union all select 1 union all select 2 union all select 3 union all select 4
            union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
        ) as d{{ d }}{% if not loop.last %} cross join{% endif %}
    {%- endfor %}
{%- endmacro %}

{#-
    `<great-grandparent> > <grandparent> > <parent> > <own>` for an indicator of `level` 1-4, from the
    `parent_<part>`, `grandparent_<part>`, `great_grandparent_<part>` columns of int_rubric_indicators_flattened.
-#}
{% macro indicator_path(part, own, separator) -%}
    case level
        when 1 then {{ own }}
        when 2 then {{ dbt.concat(['parent_' ~ part, separator, own]) }}
        when 3 then {{ dbt.concat(['grandparent_' ~ part, separator, 'parent_' ~ part, separator, own]) }}
        when 4 then {{ dbt.concat([
            'great_grandparent_' ~ part, separator, 'grandparent_' ~ part, separator,
            'parent_' ~ part, separator, own,
        ]) }}
    end
{%- endmacro %}
