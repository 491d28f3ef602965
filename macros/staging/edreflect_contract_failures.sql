{#-
    edreflect_contract_failures(source_table): SQL returning one row per raw value of a contract table
    that breaks the contract (sections 3-4), with its column, problem, file and line:
    - a required column (`nullable = no`) is empty;
    - a non-empty value lacks its type's form (objectid, integer, number, boolean, date, timestamp) or
      does not cast (e.g. 2025-02-30).
    Staging turns such a value into null; each staging model's `contract_conformance` test reports it
    (tests/dbt/generic/contract_conformance.sql), so that never goes unnoticed.
-#}
{% macro edreflect_contract_failures(source_table) -%}
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
{%- if not checks -%}
    {%- do checks.append(({'name': '', 'source_column': ''}, '', '1 = 0')) -%}
{%- endif -%}
{%- for column, problem, condition in checks %}
    select
        '{{ column.name }}' as column_name,
        '{{ column.source_column }}' as source_column,
        '{{ problem }}' as problem,
        _source_file as source_file,
        _source_line as source_line,
        {{ edreflect_quote(column.source_column) if column.source_column else 'null' }} as raw_value
    from {{ source('edreflect', source_table) }}
    where {{ condition }}
    {{- '\n    union all' if not loop.last }}
{%- endfor %}
{%- endmacro %}
