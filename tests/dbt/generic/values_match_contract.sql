{#-
    values_match_contract (model-level): every raw value of a contract table matches the contract
    (contract sections 3-4), checked in one scan of the raw table:
    - a required column (`nullable = no`) is never empty;
    - a non-empty value has its type's form (objectid, integer, number, boolean, date, timestamp).
    Staging turns a value that does not parse into null; this test makes sure that never happens
    silently. Null or empty in, null out is fine where the contract allows it.

    Returns one row per failing value (column, raw column, problem, file, line, value). With severity
    `error` (the default) a failure stops the build with a message naming the model, each failing column,
    the problem, how many values have it and the first one with its file and line; with `warn` the
    failing rows are counted as usual.
-#}
{% test values_match_contract(model, source_table) %}
{%- set forms = {
    'objectid': '[0-9a-f]{24}',
    'integer': '-?[0-9]+',
    'number': '-?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)',
    'boolean': 'true|false',
    'date': '[0-9]{4}-[0-9]{2}-[0-9]{2}',
    'timestamp': '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?Z',
} -%}
{%- set checks = [] -%}
{%- for column in edreflect_staging_columns(source_table) if column.contract_type != 'lineage' -%}
    {%- set raw_value = edreflect_quote(column.source_column) -%}
    {%- if not column.nullable -%}
        {%- do checks.append((column, 'empty in a required column',
            raw_value ~ " is null or " ~ raw_value ~ " = ''")) -%}
    {%- endif -%}
    {%- if column.contract_type in forms -%}
        {%- do checks.append((column, 'do not parse as ' ~ column.contract_type,
            raw_value ~ " <> '' and (not " ~ regexp_full_match(raw_value, forms[column.contract_type])
            ~ " or " ~ edreflect_cast(raw_value, column.contract_type) ~ " is null)")) -%}
    {%- endif -%}
{%- endfor -%}
{%- set failures_sql -%}
    {%- for column, problem, condition in checks %}
    select
        '{{ column.name }}' as column_name,
        '{{ column.source_column }}' as source_column,
        '{{ problem }}' as problem,
        _source_file as source_file,
        _source_line as source_line,
        {{ edreflect_quote(column.source_column) }} as raw_value
    from {{ source('edreflect', source_table) }}
    where {{ condition }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{%- endset -%}
{%- if checks and execute and (config.get('severity') or 'error') | lower == 'error' -%}
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
{{ failures_sql if checks else 'select 1 as nothing_to_check where 1 = 0' }}
{% endtest %}
