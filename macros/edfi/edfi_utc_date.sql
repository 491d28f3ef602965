{#- The calendar date (in UTC) of a timestamp with time zone, whatever the session time zone is. -#}
{% macro edfi_utc_date(timestamp_column) -%}
    {{ return(adapter.dispatch('edfi_utc_date')(timestamp_column)) }}
{%- endmacro %}

{#- PostgreSQL: `<timestamptz> at time zone 'UTC'` is the UTC wall-clock time (a plain cast would take the
    session's zone). -#}
{% macro default__edfi_utc_date(timestamp_column) -%}
    cast({{ timestamp_column }} at time zone 'UTC' as date)
{%- endmacro %}

{% macro duckdb__edfi_utc_date(timestamp_column) -%}
    cast(timezone('UTC', {{ timestamp_column }}) as date)
{%- endmacro %}

{#- Spark: the session time zone is UTC (profiles.yml), so the date of the instant is its UTC date. -#}
{% macro spark__edfi_utc_date(timestamp_column) -%}
    to_date({{ timestamp_column }})
{%- endmacro %}
