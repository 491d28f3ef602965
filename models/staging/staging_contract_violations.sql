{#-
    Every contract violation in raw, one row per table, column and problem (a required column empty, a
    value that does not parse as its type), with how many values and the first one (file, line, value).
    Empty when the delivery matches the contract. The `values_match_contract` tests fail the build on the
    same rows; this view is what a person or a report queries.
-#}
{%- set tables = edreflect_contract_columns().keys() | list -%}

with

failures as (
    {% for source_table in tables %}
    select
        'stg_edreflect__{{ source_table }}' as model_name,
        '{{ source_table }}' as source_table,
        failures.*
    from (
        {{- edreflect_contract_failures(source_table) | indent(4) }}
    ) as failures
    {{- '\n    union all' if not loop.last }}
    {% endfor %}
),

numbered as (

    select
        *,
        count(*) over (partition by source_table, column_name, problem) as failing_values,
        row_number() over (
            partition by source_table, column_name, problem
            order by source_file, source_line
        ) as failure_number
    from failures

)

select
    model_name,
    source_table,
    column_name,
    source_column,
    problem,
    failing_values,
    raw_value as example_value,
    source_file as example_file,
    source_line as example_line
from numbered
where failure_number = 1
