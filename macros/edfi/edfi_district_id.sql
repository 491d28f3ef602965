{#-
    The Ed-Fi export's district (var edfi_district_id; pipeline/dbt.py passes the run settings from the
    environment) as a SQL integer literal. Checked here, once, so a wrong or missing setting fails the edfi models
    with a message that says which variable to set, instead of producing cohorts for an unknown district.
-#}
{% macro edfi_district_id() -%}
    {%- set district_id = run_setting('edfi_district_id', none) -%}
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
