{#-
    safe_cast_or_null(expression, data_type): a cast that yields null instead of failing when the text
    does not parse. `dbt.safe_cast` is a plain `cast` on DuckDB (one bad value would make the whole view
    fail), so DuckDB gets `try_cast`.
-#}
{% macro safe_cast_or_null(expression, data_type) -%}
    {{ return(adapter.dispatch('safe_cast_or_null', 'edreflect_edfi')(expression, data_type)) }}
{%- endmacro %}

{% macro default__safe_cast_or_null(expression, data_type) -%}
    {{ return(dbt.safe_cast(expression, data_type) | trim) }}
{%- endmacro %}

{% macro duckdb__safe_cast_or_null(expression, data_type) -%}
    {{ return("try_cast(" ~ expression ~ " as " ~ data_type ~ ")") }}
{%- endmacro %}

{#-
    PostgreSQL has no `try_cast` (nor, before 16, `pg_input_is_valid`): a plain cast stops the whole query on
    one bad value. `edreflect_util.try_cast_<type>(text)` are PL/pgSQL functions that return null when the
    cast fails; `pipeline/postgres.py` (SAFE_CAST_FUNCTIONS) creates them before dbt runs.
-#}
{% macro postgres__safe_cast_or_null(expression, data_type) -%}
    {%- set functions = {
        'bigint': 'try_cast_bigint',
        'double precision': 'try_cast_double',
        'boolean': 'try_cast_boolean',
        'date': 'try_cast_date',
        'timestamp with time zone': 'try_cast_timestamptz',
    } -%}
    {%- if data_type | lower not in functions -%}
        {{ exceptions.raise_compiler_error("safe_cast_or_null: no PostgreSQL function for type " ~ data_type) }}
    {%- endif -%}
    {{ return("edreflect_util." ~ functions[data_type | lower] ~ "(" ~ expression ~ ")") }}
{%- endmacro %}

{#-
    Spark has `try_cast` too; its types are spelt `double` and `timestamp` (an instant, shown in the session's
    time zone: UTC, see profiles.yml). A bigint goes through a decimal, rounded half away from zero, as
    DuckDB casts text: `'1.5'` and `'1e3'` are 2 and 1000 on both (Spark's own try_cast gives null).
-#}
{% macro spark__safe_cast_or_null(expression, data_type) -%}
    {%- if data_type | lower == 'bigint' -%}
        {{ return("try_cast(round(try_cast(" ~ expression ~ " as decimal(38, 9))) as bigint)") }}
    {%- endif -%}
    {%- set types = {'double precision': 'double', 'timestamp with time zone': 'timestamp'} -%}
    {{ return("try_cast(" ~ expression ~ " as " ~ types.get(data_type | lower, data_type) ~ ")") }}
{%- endmacro %}
