{#-
    A model's relation is named after its file, as dbt does by default. PostgreSQL cuts identifiers at 63
    bytes, and a unit test reads a model's given rows from a CTE named `__dbt__cte__<relation>` (12 more): so
    on PostgreSQL a name over 51 characters (22 staging models, e.g. `stg_edreflect__rubrics__indicators__...`,
    up to 90) is cut to 42 and ends with `_` and 8 hex digits of its md5, unique and stable. Marts keep their
    names everywhere.
-#}
{% macro generate_alias_name(custom_alias_name=none, node=none) -%}
    {%- set alias = dbt.default__generate_alias_name(custom_alias_name, node) | trim -%}
    {{ return(adapter.dispatch('relation_name_within_limit', 'edreflect_edfi')(alias)) }}
{%- endmacro %}

{% macro default__relation_name_within_limit(name) -%}
    {{ return(name) }}
{%- endmacro %}

{% macro postgres__relation_name_within_limit(name) -%}
    {%- if name | length <= 51 -%}
        {{ return(name) }}
    {%- endif -%}
    {{ return(name[:42] ~ '_' ~ local_md5(name)[:8]) }}
{%- endmacro %}
