{#-
    The Ed-Fi export's run settings, read from dbt vars (pipeline/dbt.py passes them from the environment).
    They are checked here, once, so a wrong or missing setting fails the edfi models with a message that
    says which variable to set, instead of producing cohorts for an unknown district.
-#}

{% macro edfi_district_id() -%}
    {%- set district_id = var('edfi_district_id', none) -%}
    {%- if execute and (district_id is none or (district_id | string | trim) == '') -%}
        {{ exceptions.raise_compiler_error(
            "edfi_district_id is not set: the Ed-Fi export needs the district's educationOrganizationId "
            ~ "(the State District Number). Set EDFI_DISTRICT_ID (make build EDFI_DISTRICT_ID=3100042) or pass "
            ~ "--vars '{edfi_district_id: 3100042, edfi_school_years: [2025]}' to dbt."
        ) }}
    {%- endif -%}
    {%- if district_id is not none and not modules.re.match('^[0-9]+$', district_id | string | trim) -%}
        {{ exceptions.raise_compiler_error(
            "edfi_district_id must be an integer (an Ed-Fi educationOrganizationId), got: " ~ district_id
        ) }}
    {%- endif -%}
    {{- (district_id | string | trim) if district_id is not none else 'null' -}}
{%- endmacro %}


{% macro edfi_school_years() -%}
    {#- The configured school years as a list of ints; dbt may hand them over as ints or strings. -#}
    {%- set raw = var('edfi_school_years', []) -%}
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


{% macro edfi_school_year_is_configured(column) -%}
    {#- A boolean SQL expression; `false` when no year is configured (nothing is sent). -#}
    {%- set years = edfi_school_years() -%}
    {%- if years | length == 0 -%}
        (1 = 0)
    {%- else -%}
        ({{ column }} in ({{ years | join(', ') }}))
    {%- endif -%}
{%- endmacro %}


{% macro edfi_cohort_identifier_max_length() -%}
    {%- set max_length = var('edfi_cohort_identifier_max_length', 20) -%}
    {%- if max_length is none or (max_length | string | trim) == '' -%}{%- set max_length = 20 -%}{%- endif -%}
    {%- if not modules.re.match('^[0-9]+$', max_length | string | trim) or (max_length | string | trim | int) < 1 -%}
        {{ exceptions.raise_compiler_error(
            "edfi_cohort_identifier_max_length must be a positive integer (20 for Data Standard 3.x/4.0, "
            ~ "36 for 5.x), got: " ~ max_length
        ) }}
    {%- endif -%}
    {{- max_length | string | trim | int -}}
{%- endmacro %}
