{#-
    ENGINE=spark: the pipeline writes the raw layer as a Parquet folder per table (var `spark_raw_dir`,
    pipeline/spark.py, land_raw). Before a staging model runs (its pre-hook, dbt_project.yml), this registers
    the raw tables it reads as `raw.<table>` in Spark's catalog, so models and tests read raw through dbt's
    own source() as on the other engines. A registration left by an earlier run is replaced: a catalog that
    outlives the session (a metastore) never points at an older build's folder. It runs its statements
    itself and leaves the hook empty; on other engines it does nothing.
-#}
{% macro register_spark_raw() %}
    {%- set folder = var('spark_raw_dir', '') -%}
    {%- if target.type != 'spark' or not execute or not folder -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- do run_query('create schema if not exists raw') -%}
    {%- for uid in model.depends_on.nodes if uid.startswith('source.') -%}
        {%- set node = graph.sources[uid] -%}
        {%- set table = 'raw.' ~ adapter.quote(node.identifier) -%}
        {%- do run_query('drop table if exists ' ~ table) -%}
        {%- do run_query(
            'create table ' ~ table ~ " using parquet location '" ~ folder ~ '/' ~ node.identifier ~ "'"
        ) -%}
    {%- endfor -%}
    {%- do return('') -%}
{% endmacro %}
