{#-
    values_match_contract (model-level): every raw value of the model's contract table matches the
    contract: required columns are never empty and values have their type's form (see the
    `edreflect_contract_failures` macro). One scan per table instead of one test per column.

    Returns one row per failing value. With severity `error` (the default) a failure stops the build with
    a message naming the model, each failing column, the problem, how many values have it and the first
    one with its file and line; with `warn` the failing rows are counted as usual.
-#}
{% test values_match_contract(model, source_table) %}
{%- set failures_sql = edreflect_contract_failures(source_table) -%}
{%- if execute and (config.get('severity') or 'error') | lower == 'error' -%}
    {%- set found = run_query(
        "select column_name, source_column, problem, failing, source_file, source_line, raw_value"
        ~ " from (select *, count(*) over (partition by column_name, problem) as failing,"
        ~ " row_number() over (partition by column_name, problem order by source_file, source_line) as n"
        ~ " from (" ~ failures_sql ~ ") as failures) as numbered where n = 1 order by column_name, problem") -%}
    {%- if found.rows | length > 0 -%}
        {%- set problems = [] -%}
        {%- for row in found.rows -%}
            {%- set value = row[6] if row[6] is none or row[6] | length <= 60 else row[6][:57] ~ '...' -%}
            {%- do problems.append(model.identifier ~ "." ~ row[0] ~ " (raw." ~ source_table ~ " column "
                ~ row[1] ~ "): " ~ row[3] ~ " value(s) " ~ row[2] ~ ", e.g. "
                ~ ("'" ~ value ~ "' " if value else "") ~ "at " ~ row[4] ~ " line " ~ row[5]) -%}
        {%- endfor -%}
        {{ exceptions.raise_compiler_error("values do not match the contract: " ~ problems | join("; ")) }}
    {%- endif -%}
{%- endif %}
{{ failures_sql }}
{% endtest %}
