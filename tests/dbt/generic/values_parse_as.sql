{#-
    values_parse_as (model-level): every non-empty raw value of every typed column of a contract table has
    its contract type's form (contract section 4). Staging turns a value that does not parse into null;
    this test makes sure that never happens silently. Null or empty in, null out is fine.

    Returns one row per failing value (model, column, raw column, type, file, line, value). With severity
    `error` (the default) a failure stops the build with a message naming the model, each failing column,
    how many of its values fail and the first one with its file and line; with `warn` the failing rows
    are counted as usual.
-#}
{% test values_parse_as(model, source_table) %}
{%- set forms = {
    'objectid': '[0-9a-f]{24}',
    'integer': '-?[0-9]+',
    'number': '-?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)',
    'boolean': 'true|false',
    'date': '[0-9]{4}-[0-9]{2}-[0-9]{2}',
    'timestamp': '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?Z',
} -%}
{%- set typed = edreflect_staging_columns(source_table) | selectattr('contract_type', 'in', forms) | list -%}
{%- set failures_sql -%}
    {%- for column in typed %}
    {%- set raw_value = edreflect_quote(column.source_column) %}
    select
        '{{ column.name }}' as column_name,
        '{{ column.source_column }}' as source_column,
        '{{ column.contract_type }}' as contract_type,
        _source_file as source_file,
        _source_line as source_line,
        {{ raw_value }} as raw_value
    from {{ source('edreflect', source_table) }}
    where {{ raw_value }} <> ''
        and (
            not {{ regexp_full_match(raw_value, forms[column.contract_type]) }}
            or {{ edreflect_cast(raw_value, column.contract_type) }} is null
        )
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{%- endset -%}
{%- if execute and (config.get('severity') or 'error') | lower == 'error' -%}
    {%- set found = run_query(
        "select column_name, source_column, contract_type, failing, source_file, source_line, raw_value"
        ~ " from (select *, count(*) over (partition by column_name) as failing,"
        ~ " row_number() over (partition by column_name order by source_file, source_line) as n"
        ~ " from (" ~ failures_sql ~ ") as failures) as numbered where n = 1 order by column_name") -%}
    {%- if found.rows | length > 0 -%}
        {%- set problems = [] -%}
        {%- for row in found.rows -%}
            {%- set example = row[6] if row[6] | length <= 60 else row[6][:57] ~ '...' -%}
            {%- do problems.append(model.identifier ~ "." ~ row[0] ~ " (raw." ~ source_table ~ " column "
                ~ row[1] ~ "): " ~ row[3] ~ " value(s) do not parse as " ~ row[2] ~ ", e.g. '" ~ example
                ~ "' at " ~ row[4] ~ " line " ~ row[5]) -%}
        {%- endfor -%}
        {{ exceptions.raise_compiler_error("staging type errors: " ~ problems | join("; ")) }}
    {%- endif -%}
{%- endif %}
{{ failures_sql if typed else 'select 1 as no_typed_column where 1 = 0' }}
{% endtest %}
