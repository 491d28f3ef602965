{#-
    column_rules (one per model or seed): the column rules dbt's generic tests state one test node each
    (`not_null`, `accepted_values`, `unique`, `relationships`), checked in one query. A dbt test node costs
    dbt ~40 ms of its own Python whatever it reads (measured on the sample build: leaving out 71 of its 92
    tests took 1.9-4.4 s of CPU off each of five builds), so a model has one test instead of one per column
    and rule. Arguments (column names as the model spells them; each is quoted for the engine):
    - `not_null`: columns that must be filled;
    - `accepted_values`: column -> the values it may hold (null aside);
    - `unique`: columns, or lists of columns, whose values (together) no two rows share;
    - `relationships`: [{column, to, field}]: every non-null `column` is a `field` of the model or seed `to`.

    Severity: error (the default), as the tests it replaces. The test returns one row per failing column and
    rule: how many rows fail and up to three of the values that fail; dbt's `failures` is the rows that fail
    (`fail_calc`). A build that stops on one shows its rows in its message (pipeline/dbt.py, `_found`); the
    marts checks show them for a test configured to warn (expectations/dbt_results.py).
-#}
{% test column_rules(model, not_null=[], accepted_values={}, unique=[], relationships=[]) %}
{{ config(fail_calc='coalesce(sum(failing_rows), 0)') }}
{%- set text = api.Column.translate_type('string') -%}
{%- set checks = [] -%}
{%- for column in not_null -%}
    {%- do checks.append((column, 'is null', "cast(null as " ~ text ~ ")",
        "from " ~ model ~ " where " ~ adapter.quote(column) ~ " is null")) -%}
{%- endfor -%}
{%- for column, values in accepted_values.items() -%}
    {%- set quoted = adapter.quote(column) -%}
    {%- set listed = [] -%}
    {%- for value in values -%}
        {%- do listed.append(value if value is number else "'" ~ (value | replace("'", "''")) ~ "'") -%}
    {%- endfor -%}
    {%- do checks.append((column, 'not one of: ' ~ values | join(', '), dbt.cast(quoted, text) | trim,
        "from " ~ model ~ " where " ~ quoted ~ " is not null and " ~ quoted ~ " not in ("
        ~ listed | join(', ') ~ ")")) -%}
{%- endfor -%}
{%- for key in unique -%}
    {%- set columns = [key] if key is string else key -%}
    {%- set quoted = [] -%}
    {%- set shown = [] -%}
    {%- for column in columns -%}
        {%- do quoted.append(adapter.quote(column)) -%}
        {%- do shown.append(dbt.cast(adapter.quote(column), text) | trim) -%}
        {%- if not loop.last %}{% do shown.append("', '") %}{% endif -%}
    {%- endfor -%}
    {#- one column: null is no value (as dbt's `unique`); several: rows are compared whole -#}
    {%- set filled = " where " ~ quoted[0] ~ " is not null" if quoted | length == 1 else "" -%}
    {%- do checks.append((columns | join(', '), 'repeats in another row', dbt.concat(shown) | trim,
        "from (select " ~ quoted | join(', ') ~ ", count(*) over (partition by " ~ quoted | join(', ')
        ~ ") as copies from " ~ model ~ filled ~ ") as counted where copies > 1")) -%}
{%- endfor -%}
{%- for reference in relationships -%}
    {%- set child = "children." ~ adapter.quote(reference.column) -%}
    {%- do checks.append((reference.column, 'no row in ' ~ reference.to ~ ' has this ' ~ reference.field,
        dbt.cast(child, text) | trim,
        "from " ~ model ~ " as children left join " ~ ref(reference.to) ~ " as parents on " ~ child
        ~ " = parents." ~ adapter.quote(reference.field) ~ " where " ~ child ~ " is not null and parents."
        ~ adapter.quote(reference.field) ~ " is null")) -%}
{%- endfor %}
with

failing as (
{%- for column, check, value, rows in checks %}

    select
        '{{ column | replace("'", "''") }}' as column_name,
        '{{ check | replace("'", "''") }}' as check_name,
        {{ value }} as failing_value
    {{ rows }}
    {{- '\n\n    union all' if not loop.last }}
{%- else %}

    select
        cast(null as {{ text }}) as column_name,
        cast(null as {{ text }}) as check_name,
        cast(null as {{ text }}) as failing_value
    from {{ model }}
    where 1 = 0
{%- endfor %}

),

counted as (

    select
        column_name,
        check_name,
        count(*) as failing_rows
    from failing
    group by column_name, check_name

),

numbered as (

    -- each value once: three different values say more than one value three times
    select
        column_name,
        check_name,
        failing_value,
        row_number() over (
            partition by column_name, check_name order by failing_value
        ) as example_number
    from (
        select distinct column_name, check_name, failing_value
        from failing
        where failing_value is not null
    ) as failing_values

),

examples as (

    select
        column_name,
        check_name,
        {{ dbt.listagg("failing_value", "'; '", "order by example_number") }} as examples
    from numbered
    where example_number <= 3
    group by column_name, check_name

)

select
    counted.column_name,
    counted.check_name,
    counted.failing_rows,
    examples.examples
from counted
left join examples
    on counted.column_name = examples.column_name
        and counted.check_name = examples.check_name
{% endtest %}
