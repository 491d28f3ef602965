{#-
    The only adapter-specific SQL of the staging layer; everything else uses dbt's cross-database macros.
-#}

{#- The type of a point in time: contract timestamps are UTC instants (`2024-10-25T20:37:55.047Z`). -#}
{% macro type_timestamp_tz() -%}
    {{ return('timestamp with time zone') }}
{%- endmacro %}


{#-
    Cast that yields null instead of failing when the text does not parse. `dbt.safe_cast` is a plain
    `cast` on DuckDB (one bad value would make the whole view fail), so DuckDB gets `try_cast`.
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


{#- A boolean SQL expression: does the whole of `expression` match the regular expression `pattern`? -#}
{% macro regexp_full_match(expression, pattern) -%}
    {{ return(adapter.dispatch('regexp_full_match', 'edreflect_edfi')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regexp_full_match(expression, pattern) -%}
    {{ return(expression ~ " ~ '^(" ~ pattern ~ ")$'") }}
{%- endmacro %}

{% macro duckdb__regexp_full_match(expression, pattern) -%}
    {{ return("regexp_full_match(" ~ expression ~ ", '" ~ pattern ~ "')") }}
{%- endmacro %}
