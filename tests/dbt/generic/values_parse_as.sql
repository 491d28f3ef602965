{#-
    values_parse_as: every non-empty raw value of a staged column has its contract type's form
    (contract section 4). Staging turns an unparseable value into null; this test makes sure that never
    happens silently. Null or empty in, null out is fine.

    With severity `error` (the default) a failure stops the build with a message naming the table, the
    column, how many values fail and the first of them with its file and line; with `warn` the failing
    rows are returned as usual.
-#}
{% test values_parse_as(model, column_name, source_table, source_column, contract_type) %}
{%- set forms = {
    'objectid': '[0-9a-f]{24}',
    'integer': '-?[0-9]+',
    'number': '-?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)',
    'boolean': 'true|false',
    'date': '[0-9]{4}-[0-9]{2}-[0-9]{2}',
    'timestamp': '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?Z',
} -%}
{%- if contract_type not in forms -%}
    {{ exceptions.raise_compiler_error("values_parse_as: no parse rule for contract type '" ~ contract_type ~ "'") }}
{%- endif -%}
{%- set raw_value = edreflect_quote(source_column) -%}
{%- set failures_sql -%}
    select
        _source_file as source_file,
        _source_line as source_line,
        {{ raw_value }} as raw_value
    from {{ source('edreflect', source_table) }}
    where {{ raw_value }} is not null
        and {{ raw_value }} <> ''
        and (
            not {{ regexp_full_match(raw_value, forms[contract_type]) }}
            or {{ edreflect_cast(raw_value, contract_type) }} is null
        )
{%- endset -%}
{%- if execute and (config.get('severity') or 'error') | lower == 'error' -%}
    {%- set found = run_query(
        "select source_file, source_line, raw_value, count(*) over () as failing from ("
        ~ failures_sql ~ ") as failures order by source_file, source_line limit 1") -%}
    {%- if found.rows | length > 0 -%}
        {%- set row = found.rows[0] -%}
        {%- set example = row[2] if row[2] | length <= 60 else row[2][:57] ~ '...' -%}
        {{ exceptions.raise_compiler_error(
            "staging type error in " ~ model.identifier ~ "." ~ column_name
            ~ " (raw." ~ source_table ~ " column " ~ source_column ~ "): " ~ row[3]
            ~ " value(s) do not parse as " ~ contract_type ~ ", e.g. '" ~ example ~ "' at "
            ~ row[0] ~ " line " ~ row[1]) }}
    {%- endif -%}
{%- endif %}
{{ failures_sql }}
{% endtest %}
