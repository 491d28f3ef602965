{#-
    A setting of the run (the Ed-Fi district, school years and cohortIdentifier limit, the district's time zone):
    dbt's `--vars` when given (dbt run by hand, unit tests' overrides), else the value the pipeline passes in the
    environment variable EDREFLECT_DBT_SETTINGS (JSON, pipeline/dbt.py), else `default`.

    Not dbt vars: dbt parses the whole project again whenever any var changes (minutes of CPU over a test run,
    7-10 s a build), while an environment variable read here makes dbt parse again only the files that read it.
-#}
{% macro run_setting(name, default) -%}
    {%- set passed = fromjson(env_var('EDREFLECT_DBT_SETTINGS', '{}')) -%}
    {{- return(var(name, passed.get(name, default))) -}}
{%- endmacro %}
