{#-
    A setting of the run (the Ed-Fi district, school years and cohortIdentifier limit, the district's time zone):
    dbt's `--vars` when given (dbt run by hand, unit tests' overrides), else the environment variable the
    pipeline sets for it (EDREFLECT_SETTING_<NAME>, pipeline/dbt.py: text, school years comma-separated),
    else `default`.

    Not dbt vars: dbt parses the whole project again whenever any var changes (7-10 s a build), while an
    environment variable read here makes dbt parse again only the files that read it.
-#}
{% macro run_setting(name, default) -%}
    {%- set passed = env_var('EDREFLECT_SETTING_' ~ (name | upper), '') -%}
    {{- return(var(name, passed if passed != '' else default)) -}}
{%- endmacro %}
