{#-
    The calendar date in the district's time zone (var `district_timezone`, an IANA name such as
    `America/Chicago`) of a UTC instant (`timestamp with time zone`). Time-zone conversion is the one thing the
    cross-database macros do not cover, so it is dispatched here and nowhere else.
-#}
{% macro local_date(timestamp_column) -%}
    {%- set time_zone = run_setting('district_timezone', 'America/Chicago') -%}
    {%- if "'" in time_zone or time_zone | trim == '' -%}
        {{ exceptions.raise_compiler_error("district_timezone must be an IANA time zone name, got: " ~ time_zone) }}
    {%- endif -%}
    {{ return(adapter.dispatch('local_date')(timestamp_column, time_zone)) }}
{%- endmacro %}

{% macro duckdb__local_date(timestamp_column, time_zone) -%}
    cast(timezone('{{ time_zone }}', {{ timestamp_column }}) as date)
{%- endmacro %}

{#- PostgreSQL: `<timestamptz> at time zone <zone>` is the local wall-clock time. -#}
{% macro default__local_date(timestamp_column, time_zone) -%}
    cast({{ timestamp_column }} at time zone '{{ time_zone }}' as date)
{%- endmacro %}

{#- Spark: the session time zone is UTC (profiles.yml): `from_utc_timestamp` gives the local wall-clock time. -#}
{% macro spark__local_date(timestamp_column, time_zone) -%}
    to_date(from_utc_timestamp({{ timestamp_column }}, '{{ time_zone }}'))
{%- endmacro %}
