{#-
    contract_conformance (model-level, one per staging model): every rule the data product contract
    states about one table, checked in one query, so a staging model has one test instead of one per
    column and rule. The rules (generated into the model YAML by pipeline/codegen.py from the contract):
    - a required column (`nullable = no`) is empty;
    - a non-empty value does not parse as its contract type (objectid, integer, number, boolean, date,
      timestamp): staging turns it into null;
    - an enumeration value outside its set (`enumerations`: column -> accepted values);
    - a reference that resolves to no row (`references`: [{column, to_models, field}], the parent and root
      of an array item included).

    Severity follows the README's policy: a broken vendor promise about one record makes neither the
    warehouse nor the export wrong (the row is kept, flagged here, and the Ed-Fi models decide per record
    what they cannot send), so the test warns. Failures are stored (schema `quality`) with one row per
    failing column and check: how many rows, and up to three examples with their file and line.
-#}
{% test contract_conformance(model, source_table, enumerations={}, references=[]) %}
{{ config(severity='warn',
          fail_calc='coalesce(sum(failing_rows), 0)') }}
with

failing as (

    select column_name, problem as check_name, source_file, source_line, raw_value
    from (
        {{- edreflect_contract_failures(source_table) | indent(8) }}
    ) as parse_failures
    {%- for column, values in enumerations.items() %}

    union all

    select
        '{{ column }}' as column_name,
        'not one of: {{ values | join(", ") }}' as check_name,
        source_file,
        source_line,
        {{ dbt.cast(column, api.Column.translate_type('string')) }} as raw_value
    from {{ model }}
    where {{ column }} is not null
        and {{ column }} not in ({% for value in values %}'{{ value }}'{{ ', ' if not loop.last }}{% endfor %})
    {%- endfor %}
    {%- for reference in references %}

    union all

    select
        '{{ reference.column }}' as column_name,
        'no row in {{ reference.to_models | join(" or ") }} has this {{ reference.field }}' as check_name,
        children.source_file,
        children.source_line,
        children.{{ reference.column }} as raw_value
    from {{ model }} as children
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

),

numbered as (

    select
        *,
        row_number() over (
            partition by column_name, check_name order by source_file, source_line
        ) as example_number
    from failing

)

select
    '{{ model.identifier }}' as model_name,
    '{{ source_table }}' as source_table,
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
group by column_name, check_name
{% endtest %}
