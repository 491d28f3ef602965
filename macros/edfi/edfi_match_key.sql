{#- How free-text categories are matched: trimmed, case ignored; empty = null. -#}
{% macro edfi_match_key(expression) -%}
    nullif(lower({{ edfi_trim(expression) }}), '')
{%- endmacro %}
