{#- A boolean SQL expression; `false` when no year is configured (nothing is sent). -#}
{% macro edfi_school_year_is_configured(column) -%}
    {%- set years = edfi_school_years() -%}
    {%- if years | length == 0 -%}
        (1 = 0)
    {%- else -%}
        ({{ column }} in ({{ years | join(', ') }}))
    {%- endif -%}
{%- endmacro %}
