{#- The cohortIdentifier limit (var edfi_cohort_identifier_max_length): 20 in Data Standard 3.x/4.0, 36 in 5.x. -#}
{% macro edfi_cohort_identifier_max_length() -%}
    {%- set max_length = run_setting('edfi_cohort_identifier_max_length', 20) -%}
    {%- if max_length is none or (max_length | string | trim) == '' -%}{%- set max_length = 20 -%}{%- endif -%}
    {%- if not modules.re.match('^[0-9]+$', max_length | string | trim) or (max_length | string | trim | int) < 1 -%}
        {{ exceptions.raise_compiler_error(
            "edfi_cohort_identifier_max_length must be a positive integer (20 for Data Standard 3.x/4.0, "
            ~ "36 for 5.x), got: " ~ max_length
        ) }}
    {%- endif -%}
    {{- max_length | string | trim | int -}}
{%- endmacro %}
