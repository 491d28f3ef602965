{#-
    dbt's source(), with the build's raw schema: a build on a shared engine (ENGINE=postgres) lands raw in
    `raw__next` and builds beside the live schemas (var `build_schema_suffix`, see generate_schema_name).
    On Spark, raw is one Parquet file per table (var `spark_raw_dir`, see pipeline/spark.py), read by path:
    `parquet.`<dir>/<table>.parquet``. Without either var (DuckDB, or dbt on the live schemas) this is
    dbt's own source().
-#}
{% macro source(source_name, table_name) %}
    {%- set relation = builtins.source(source_name, table_name) -%}
    {%- set suffix = var('build_schema_suffix', '') -%}
    {%- if target.type == 'spark' and execute and relation.schema == 'raw' -%}
        {%- set path = var('spark_raw_dir', '') ~ '/' ~ relation.identifier ~ '.parquet' -%}
        {%- do return(api.Relation.create(
            schema='parquet', identifier=path, quote_policy={'schema': false, 'identifier': true}
        )) -%}
    {%- endif -%}
    {%- if suffix and execute -%}
        {%- do return(relation.incorporate(path={"schema": relation.schema ~ suffix})) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{% endmacro %}
