{#-
    dbt's source(), with the build's raw schema: a build on a shared engine (ENGINE=postgres) lands raw in
    `raw__next` and builds beside the live schemas (var `build_schema_suffix`, see generate_schema_name).
    Without it (DuckDB, Spark, or dbt on the live schemas) this is dbt's own source(); on Spark, `raw.<table>`
    is the Parquet folder the pipeline wrote, registered by the pre-hook of the staging model that reads it
    (register_spark_raw.sql).
-#}
{% macro source(source_name, table_name) %}
    {%- set relation = builtins.source(source_name, table_name) -%}
    {%- set suffix = var('build_schema_suffix', '') -%}
    {%- if suffix and execute -%}
        {%- do return(relation.incorporate(path={"schema": relation.schema ~ suffix})) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{% endmacro %}
