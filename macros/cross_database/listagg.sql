{#-
    dbt-spark's `listagg` ignores `order by` (it warns and aggregates in no set order), and the Ed-Fi reasons
    and duplicate lists must read the same on every engine. Spark: collect (key, value) pairs, sort them, join
    the values; nulls skipped and null for no value, as `string_agg` does. `order_by_clause` is `order by
    <expression>` (ascending); ties are broken by the value.
-#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("listagg: limit_num is not supported on Spark") }}
    {%- endif -%}
    {%- set key = (order_by_clause or '') | trim -%}
    {%- if key[:8] | lower == 'order by' -%}{%- set key = key[8:] | trim -%}{%- endif -%}
    {%- if key == '' or ' ' in key -%}
        {%- if key[-4:] | lower != ' asc' and key != '' -%}
            {{ exceptions.raise_compiler_error("listagg on Spark: order by one ascending expression, got: " ~ order_by_clause) }}
        {%- endif -%}
        {%- set key = key[:-4] if key else measure -%}
    {%- endif -%}
    case when count({{ measure }}) > 0 then array_join(
        transform(
            array_sort(collect_list(case when {{ measure }} is not null then named_struct('k', {{ key }}, 'v', {{ measure }}) end)),
            pair -> pair.v
        ),
        {{ delimiter_text }}
    ) end
{%- endmacro %}
