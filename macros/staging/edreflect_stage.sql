{#-
    edreflect_stage(source_table): the whole staging model of one contract table.

    Reads `source('edreflect', source_table)`, removes exact duplicate rows (every contract column equal;
    lineage ignored; the first by source line is kept), renames and types each column, keeps the lineage
    columns. The columns, their source names and contract types come from pipeline/codegen.py (which
    writes the model YAML from the same rules), so the naming rule lives in one place. Soft-deleted rows
    are kept (`is_deleted`).
-#}
{% macro edreflect_stage(source_table) -%}
{%- set columns = edreflect_staging_columns(source_table) -%}
{%- set contract_columns = columns | rejectattr('contract_type', 'equalto', 'lineage') | list -%}
{%- set lineage_columns = columns | selectattr('contract_type', 'equalto', 'lineage') | list -%}
with

source as (

    select * from {{ source('edreflect', source_table) }}

),

deduplicated as (

    -- exact duplicate rows (every contract column equal) collapse to the first by source line
    select * from (
        select
            *,
            row_number() over (
                partition by
                    {%- for column in contract_columns %}
                    {{ edreflect_quote(column.source_column) }}{{ ',' if not loop.last }}
                    {%- endfor %}
                order by _source_file, _source_line
            ) as duplicate_number
        from source
    ) as numbered
    where duplicate_number = 1

),

renamed as (

    select
        {%- for kind in ['ids', 'strings', 'numerics', 'booleans', 'dates', 'timestamps'] %}
        {%- set kind_columns = contract_columns | selectattr('kind', 'equalto', kind) | list %}
        {%- if kind_columns %}

        ---------- {{ kind }}
        {%- for column in kind_columns %}
        {{ edreflect_cast(edreflect_quote(column.source_column), column.contract_type) }} as {{ column.name }},
        {%- endfor %}
        {%- endif %}
        {%- endfor %}

        ---------- lineage
        {%- for column in lineage_columns %}
        {{ column.source_column }} as {{ column.name }}{{ ',' if not loop.last }}
        {%- endfor %}

    from deduplicated

)

select * from renamed
{%- endmacro %}


{#-
    The staged columns of a contract table, in staging order: a list of
    {name, source_column, contract_type, nullable, kind}, lineage last. The list comes from the generated
    `edreflect_contract_columns()` (macros/staging/edreflect_contract_columns.sql), which codegen writes
    from the same rules as the model YAML: a model's YAML is not visible to its SQL inside dbt unit tests.
-#}
{% macro edreflect_staging_columns(source_table) -%}
{%- set contract = edreflect_contract_columns() -%}
{%- if source_table not in contract -%}
    {{ exceptions.raise_compiler_error(
        "edreflect_stage: '" ~ source_table ~ "' is not a contract table (run `make generate`)") }}
{%- endif -%}
{%- set kinds = {
    'objectid': 'ids', 'string': 'strings', 'text': 'strings', 'integer': 'numerics', 'number': 'numerics',
    'boolean': 'booleans', 'date': 'dates', 'timestamp': 'timestamps'} -%}
{%- set out = [] -%}
{%- for source_column, name, contract_type, nullable in contract[source_table] -%}
    {%- do out.append({
        'name': name,
        'source_column': source_column,
        'contract_type': contract_type,
        'nullable': nullable,
        'kind': 'ids' if source_column == '_index' else kinds[contract_type]}) -%}
{%- endfor -%}
{%- for source_column, name in [
        ('_source_file', 'source_file'), ('_source_line', 'source_line'),
        ('_load_id', 'load_id'), ('_loaded_at', 'loaded_at')] -%}
    {%- do out.append({
        'name': name, 'source_column': source_column, 'contract_type': 'lineage', 'nullable': false,
        'kind': 'lineage'}) -%}
{%- endfor -%}
{{ return(out) }}
{%- endmacro %}


{#- A raw (contract) column name as SQL: quoted unless it is a plain lower-case identifier. -#}
{% macro edreflect_quote(name) -%}
{{ return(name if modules.re.fullmatch('[a-z_][a-z0-9_]*', name) else adapter.quote(name)) }}
{%- endmacro %}


{#-
    The staged value of a raw text column of a contract type: empty text is null (contract section 3);
    a value that does not parse becomes null here and is reported by the `contract_conformance` test.
-#}
{% macro edreflect_cast(expression, contract_type) -%}
{%- set value = "nullif(" ~ expression ~ ", '')" -%}
{%- if contract_type in ('objectid', 'string', 'text') -%}
    {{ return(value) }}
{%- elif contract_type == 'integer' -%}
    {{ return(safe_cast_or_null(value, dbt.type_bigint() | trim)) }}
{%- elif contract_type == 'number' -%}
    {#- not dbt.type_float(): `float` is single precision on DuckDB -#}
    {{ return(safe_cast_or_null(value, 'double precision')) }}
{%- elif contract_type == 'boolean' -%}
    {{ return(safe_cast_or_null(value, dbt.type_boolean() | trim)) }}
{%- elif contract_type == 'date' -%}
    {{ return(safe_cast_or_null(value, 'date')) }}
{%- elif contract_type == 'timestamp' -%}
    {{ return(safe_cast_or_null(value, type_timestamp_tz())) }}
{%- else -%}
    {{ exceptions.raise_compiler_error("edreflect_cast: unknown contract type " ~ contract_type) }}
{%- endif -%}
{%- endmacro %}
