{#- A name or label as an analyst shows it: surrounding blanks trimmed, blank text as null. -#}
{% macro display_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}
