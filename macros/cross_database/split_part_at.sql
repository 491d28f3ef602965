{#-
    `dbt.split_part` when the part number is a SQL expression (`line_numbers.n + 1`), not a literal:
    dbt-postgres's `split_part` compares the number with 0 while compiling, so it takes literals only. Both
    engines' `split_part` take an integer expression (1-based, positive here).
-#}
{% macro split_part_at(string_text, delimiter_text, part_number) -%}
    {{ return(adapter.dispatch('split_part_at', 'edreflect_edfi')(string_text, delimiter_text, part_number)) }}
{%- endmacro %}

{% macro default__split_part_at(string_text, delimiter_text, part_number) -%}
    {{ return(dbt.default__split_part(string_text, delimiter_text, part_number)) }}
{%- endmacro %}

{% macro duckdb__split_part_at(string_text, delimiter_text, part_number) -%}
    {{ return(dbt.split_part(string_text, delimiter_text, part_number)) }}
{%- endmacro %}

{#- Spark (3.3+) has `split_part` with a literal delimiter; dbt-spark's macro splits on a regular expression. -#}
{% macro spark__split_part_at(string_text, delimiter_text, part_number) -%}
    {{ return("split_part(" ~ string_text ~ ", " ~ delimiter_text ~ ", " ~ part_number ~ ")") }}
{%- endmacro %}
