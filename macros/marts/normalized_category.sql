{#- A free-text category as one code: trimmed, lower case, blank as null (`' District '`, `DISTRICT` -> `district`). -#}
{% macro normalized_category(column) -%}
    lower(nullif(trim({{ column }}), ''))
{%- endmacro %}
