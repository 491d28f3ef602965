{#-
    contract_conformance (one per file group, on the group's root staging model): every rule the data
    product contract states about each table of the group, checked in one query, so a file group has one
    test instead of one per table, column and rule (a dbt test node costs ~60 ms of dbt's own time, whatever
    it reads). `tables` lists the group's staging models, each with its rules, generated into the group's
    YAML by pipeline/codegen.py from the contract:
    - a required column (`columns`: staging name -> {source_column, contract_type, required}) is empty;
    - a non-empty value lacks its type's form (objectid, integer, number, boolean, date, timestamp) or
      does not cast (e.g. 2025-02-30): staging turns it into null. Both are read from the raw source
      table (`source_table`), where the value is still the text the vendor sent;
    - an enumeration value outside its set (`enumerations`: column -> accepted values);
    - a reference that resolves to no row (`references`: [{column, to_models, field}], the parent and root
      of an array item included).

    Severity follows the README's policy: a broken vendor promise about one record makes neither the
    warehouse nor the export wrong (the row is kept, flagged here, and the Ed-Fi models decide per record
    what they cannot send), so the test warns. Failures are stored (schema `quality`) with one row per
    failing model, column and check: how many rows, and up to three examples with their file and line; the
    staging layer's validation reports them per model (expectations/dbt_results.py).
-#}
{% test contract_conformance(model, tables) %}
{{ config(severity='warn', fail_calc='coalesce(sum(failing_rows), 0)') }}
{#- Spark: the failing rows are stored (Parquet, schema `quality`), where the staging checks read their
    examples after dbt's session has ended; elsewhere the checks run the test's query again -#}
{%- if target.type == 'spark' %}{{ config(store_failures=true) }}{% endif %}
{#- the form of each parsed type's text, and the type staging casts it to (try_cast_text) -#}
{%- set forms = {
    'objectid': '[0-9a-f]{24}',
    'integer': '-?[0-9]+',
    'number': '-?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)',
    'boolean': 'true|false',
    'date': '[0-9]{4}-[0-9]{2}-[0-9]{2}',
    'timestamp': '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?Z',
} -%}
{%- set cast_types = {
    'integer': 'bigint',
    'number': 'double precision',
    'boolean': 'boolean',
    'date': 'date',
    'timestamp': 'timestamp with time zone',
} -%}
with

failing as (
{%- for table in tables %}

    {%- set checks = [] -%}
    {%- for column, rule in (table.columns or {}).items() -%}
        {%- set raw_value = adapter.quote(rule.source_column) -%}
        {%- if rule.required -%}
            {%- do checks.append((column, 'empty in a required column',
                raw_value ~ " is null or " ~ raw_value ~ " = ''")) -%}
        {%- endif -%}
        {%- if rule.contract_type in forms -%}
            {%- set fails = "not " ~ regexp_full_match(raw_value, forms[rule.contract_type]) -%}
            {%- if rule.contract_type in cast_types -%}
                {%- set fails = fails ~ " or "
                    ~ try_cast_text(raw_value, cast_types[rule.contract_type]) ~ " is null" -%}
            {%- endif -%}
            {%- do checks.append((column, 'do not parse as ' ~ rule.contract_type,
                raw_value ~ " <> '' and (" ~ fails ~ ")")) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for column, check_name, condition in checks %}

    select
        '{{ table.model }}' as model_name,
        '{{ table.source_table }}' as source_table,
        '{{ column }}' as column_name,
        '{{ check_name }}' as check_name,
        _source_file as source_file,
        _source_line as source_line,
        {{ adapter.quote(table.columns[column].source_column) }} as raw_value
    from {{ source('edreflect', table.source_table) }}
    where {{ condition }}
    {{- '\n\n    union all' if not loop.last }}
    {%- else %}

    select
        '{{ table.model }}' as model_name,
        '{{ table.source_table }}' as source_table,
        '' as column_name,
        '' as check_name,
        _source_file as source_file,
        _source_line as source_line,
        _source_file as raw_value
    from {{ source('edreflect', table.source_table) }}
    where 1 = 0
    {%- endfor %}
    {%- for column, values in (table.enumerations or {}).items() %}

    union all

    select
        '{{ table.model }}' as model_name,
        '{{ table.source_table }}' as source_table,
        '{{ column }}' as column_name,
        'not one of: {{ values | join(", ") }}' as check_name,
        source_file,
        source_line,
        {{ dbt.cast(column, api.Column.translate_type('string')) }} as raw_value
    from {{ ref(table.model) }}
    where {{ column }} is not null
        and {{ column }} not in ({% for value in values %}'{{ value }}'{{ ', ' if not loop.last }}{% endfor %})
    {%- endfor %}
    {%- for reference in table.references or [] %}

    union all

    select
        '{{ table.model }}' as model_name,
        '{{ table.source_table }}' as source_table,
        '{{ reference.column }}' as column_name,
        'no row in {{ reference.to_models | join(" or ") }} has this {{ reference.field }}' as check_name,
        children.source_file,
        children.source_line,
        children.{{ reference.column }} as raw_value
    from {{ ref(table.model) }} as children
    left join (
        {%- for to_model in reference.to_models %}
        select {{ reference.field }} as id from {{ ref(to_model) }}
        {{- '\n        union' if not loop.last }}
        {%- endfor %}
    ) as parents
        on children.{{ reference.column }} = parents.id
    where children.{{ reference.column }} is not null
        and parents.id is null
    {%- endfor %}
    {{- '\n\n    union all\n' if not loop.last }}
{%- endfor %}
),

numbered as (

    select
        *,
        row_number() over (
            partition by model_name, column_name, check_name order by source_file, source_line
        ) as example_number
    from failing

)

select
    model_name,
    source_table,
    column_name,
    check_name,
    count(*) as failing_rows,
    {{ dbt.listagg(
        "case when example_number <= 3 then source_file || ':' || "
            ~ dbt.cast("source_line", api.Column.translate_type("string"))
            ~ " || coalesce(' ' || raw_value, '') end",
        "'; '",
        "order by example_number") }} as examples
from numbered
group by model_name, source_table, column_name, check_name
{% endtest %}
