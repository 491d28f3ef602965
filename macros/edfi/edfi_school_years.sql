{#- The configured school years as a list of ints; dbt may hand them over as ints or strings. -#}
{% macro edfi_school_years() -%}
    {%- set raw = run_setting('edfi_school_years', []) -%}
    {%- if raw is string -%}{%- set raw = raw.split(',') -%}{%- endif -%}
    {%- set years = [] -%}
    {%- for year in raw if (year | string | trim) != '' -%}
        {%- if not modules.re.match('^[0-9]{4}$', year | string | trim) -%}
            {{ exceptions.raise_compiler_error("edfi_school_years must list 4-digit years, got: " ~ year) }}
        {%- endif -%}
        {%- do years.append(year | string | trim | int) -%}
    {%- endfor -%}
    {{- return(years | unique | sort | list) -}}
{%- endmacro %}
