{#- Trim spaces, tabs and line breaks at both ends (plain `trim` only removes spaces in most databases). -#}
{% macro edfi_trim(expression) -%}
    {{ return(adapter.dispatch('edfi_trim')(expression)) }}
{%- endmacro %}

{% macro default__edfi_trim(expression) -%}
    trim({{ expression }})
{%- endmacro %}

{% macro duckdb__edfi_trim(expression) -%}
    trim({{ expression }}, ' ' || chr(9) || chr(10) || chr(13))
{%- endmacro %}

{% macro spark__edfi_trim(expression) -%}
    trim(both concat(' ', chr(9), chr(10), chr(13)) from {{ expression }})
{%- endmacro %}
