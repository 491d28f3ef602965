{#-
    Models land in the schema their folder names (staging, marts, ...), not `<target>_<schema>`.
    A build on a shared engine (ENGINE=postgres) builds beside the live schemas, in `<schema>__next`
    (var `build_schema_suffix`, set by pipeline/engines.py), and swaps them in when everything passed.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set schema_name = target.schema if custom_schema_name is none else custom_schema_name | trim -%}
    {{ schema_name ~ var('build_schema_suffix', '') }}
{%- endmacro %}
