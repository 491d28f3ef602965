{#-
    Length as the ODS counts it: NVARCHAR holds UTF-16 code units, so a character outside the Basic
    Multilingual Plane (an emoji) counts 2.
-#}
{% macro edfi_utf16_length(expression) -%}
    {{ return(adapter.dispatch('edfi_utf16_length')(expression)) }}
{%- endmacro %}

{% macro default__edfi_utf16_length(expression) -%}
    {{ dbt.length(expression) }}
        + {{ dbt.length("regexp_replace(" ~ expression ~ ", '[^\\U00010000-\\U0010FFFF]', '', 'g')") }}
{%- endmacro %}

{% macro duckdb__edfi_utf16_length(expression) -%}
    {{ dbt.length(expression) }}
        + {{ dbt.length("regexp_replace(" ~ expression ~ ", '[^\\x{10000}-\\x{10FFFF}]', '', 'g')") }}
{%- endmacro %}

{#- Spark: Java regular expressions; regexp_replace replaces every match (its third argument is a position). -#}
{% macro spark__edfi_utf16_length(expression) -%}
    {{ dbt.length(expression) }}
        + {{ dbt.length("regexp_replace(" ~ expression ~ ", '[^\\x{10000}-\\x{10FFFF}]', '')") }}
{%- endmacro %}
