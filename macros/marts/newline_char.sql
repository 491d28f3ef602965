{#- The line-feed character; `chr` is understood by DuckDB and PostgreSQL alike. -#}
{% macro newline_char() -%}
    chr(10)
{%- endmacro %}
