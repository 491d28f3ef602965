{#- Small SQL helpers of the edfi models. DuckDB-specific SQL only in the dispatched duckdb__ variants. -#}

{% macro edfi_descriptor_uri(namespace, code_value) -%}
    {#- An Ed-Fi descriptor URI, `<namespace>#<codeValue>`; null when the code is null. -#}
    case when {{ code_value }} is not null then {{ dbt.concat([namespace, "'#'", code_value]) }} end
{%- endmacro %}


{% macro edfi_match_key(expression) -%}
    {#- How free-text categories are matched: trimmed, case ignored; empty = null. -#}
    nullif(lower({{ edfi_trim(expression) }}), '')
{%- endmacro %}


{% macro edfi_utc_date(timestamp_column) -%}
    {#- The calendar date (in UTC) of a timestamp with time zone, whatever the session time zone is. -#}
    {{ return(adapter.dispatch('edfi_utc_date')(timestamp_column)) }}
{%- endmacro %}

{#- Postgres, Redshift and Trino: `<timestamptz> at time zone 'UTC'` is the UTC wall-clock time (a plain cast
    would take the session's zone). -#}
{% macro default__edfi_utc_date(timestamp_column) -%}
    cast({{ timestamp_column }} at time zone 'UTC' as date)
{%- endmacro %}

{% macro duckdb__edfi_utc_date(timestamp_column) -%}
    cast(timezone('UTC', {{ timestamp_column }}) as date)
{%- endmacro %}


{% macro edfi_school_year_start_date(school_year_column) -%}
    {#- July 1 of the calendar year before the school year (2025 = 2024-25 -> 2024-07-01). -#}
    cast(
        {{ dbt.concat([
            "cast(" ~ school_year_column ~ " - 1 as " ~ dbt.type_string() ~ ")",
            "'-07-01'"
        ]) }}
        as date
    )
{%- endmacro %}


{% macro edfi_trim(expression) -%}
    {#- Trim spaces, tabs and line breaks at both ends (plain `trim` only removes spaces in most databases). -#}
    {{ return(adapter.dispatch('edfi_trim')(expression)) }}
{%- endmacro %}

{% macro default__edfi_trim(expression) -%}
    trim({{ expression }})
{%- endmacro %}

{% macro duckdb__edfi_trim(expression) -%}
    trim({{ expression }}, ' ' || chr(9) || chr(10) || chr(13))
{%- endmacro %}


{% macro edfi_utf16_length(expression) -%}
    {#- Length as the ODS counts it: NVARCHAR holds UTF-16 code units, so a character outside the Basic
        Multilingual Plane (an emoji) counts 2. -#}
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
