{#-
  A mart's primary key (its contract's `primary_key` constraint) on DuckDB: checked by one `group by` after
  the insert instead of an ART index built row by row.

  DuckDB enforces a declared primary key with an ART index that it builds while inserting and then keeps in
  the file. Measured on the 1 GB product (dbt alone, three interleaved pairs, the same minutes): dbt 22.8-23.4
  s without the indexes against 27.1-27.7 s with them, and the warehouse 0.97 GB instead of 1.36 GB (the
  indexes were 385 MB of it); one 939 k-row mart took 2.4 s to insert with its index against 0.07 s for the
  `group by` that finds a repeated key. No query here reads a mart by its key one row at a time, the use
  such an index serves.

  So on DuckDB the table is created with the contract's columns and types, the key's columns `not null`, and
  the key checked in the model's own statement, before its transaction commits: a key that repeats fails the
  model (its previous table kept whole, as with the constraint: macros/materializations/table.sql) with a
  message that names the table, the key, how many values repeat and three of them. PostgreSQL keeps the
  declared constraint: its B-tree index is cheap there and serves lookups. The declaration itself stays in
  the model's YAML (dbt docs and the manifest show it), its one home. The check runs in this project's table
  materialization (table.sql), the only one that creates tables here: a materialization added later (an
  incremental model) must run `primary_key_check` too, or its key goes unchecked on DuckDB.
-#}

{#- the key's columns: a column's `primary_key` constraint, or the model's (with its `columns`) -#}
{% macro primary_key_columns(model) %}
    {%- set columns = [] -%}
    {%- for name, column in model["columns"].items() -%}
        {%- for constraint in column["constraints"] if constraint["type"] == "primary_key" -%}
            {%- do columns.append(column["name"]) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for constraint in model["constraints"] if constraint["type"] == "primary_key" -%}
        {%- do columns.extend(constraint["columns"]) -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}


{#- dbt's `table_columns_and_constraints`, the primary key rendered as `not null` on its columns -#}
{% macro duckdb__get_table_columns_and_constraints() %}
    {%- set key = primary_key_columns(model) -%}
    {%- set columns = {} -%}
    {%- for name, column in model["columns"].items() -%}
        {%- set constraints = [] -%}
        {%- for constraint in column["constraints"] if constraint["type"] != "primary_key" -%}
            {%- do constraints.append(constraint) -%}
        {%- endfor -%}
        {%- if column["name"] in key and not constraints | selectattr("type", "equalto", "not_null") | list -%}
            {%- do constraints.append({"type": "not_null"}) -%}
        {%- endif -%}
        {%- do columns.update({name: {
            "name": column["name"], "data_type": column["data_type"], "quote": column["quote"],
            "constraints": constraints}}) -%}
    {%- endfor -%}
    {%- set rendered_columns = adapter.render_raw_columns_constraints(raw_columns=columns) -%}
    {%- set model_constraints = model["constraints"] | rejectattr("type", "equalto", "primary_key") | list -%}
    {%- set rendered_model = adapter.render_raw_model_constraints(raw_constraints=model_constraints) -%}
({{ (rendered_columns + rendered_model) | join(", ") }})
{% endmacro %}


{#- SQL that fails when the key repeats in `relation` (empty: the engine enforces the declared key) -#}
{% macro primary_key_check(relation, columns) %}
    {{ return(adapter.dispatch("primary_key_check")(relation, columns)) }}
{% endmacro %}

{% macro default__primary_key_check(relation, columns) %}{% endmacro %}

{% macro duckdb__primary_key_check(relation, columns) %}
    {%- set quoted = [] -%}
    {%- for column in columns %}{% do quoted.append(adapter.quote(column)) %}{% endfor -%}
    {%- set key = quoted | join(", ") -%}
    {%- set shown = "cast(" ~ quoted[0] ~ " as varchar)" if quoted | length == 1
        else "'(' || concat_ws(', ', " ~ key ~ ") || ')'" -%}
    {%- set what = relation.schema ~ "." ~ relation.identifier ~ " (" ~ columns | join(", ") ~ ")" -%}
    {%- set what = what | replace("'", "''") -%}
    select error(
        'primary key violation: {{ what }}: ' || repeated || ' key value(s) in more than one row, e.g. '
        || examples
    )
    from (
        select count(*) as repeated, string_agg(shown, '; ' order by shown) filter (where n <= 3) as examples
        from (
            select {{ shown }} as shown, row_number() over (order by {{ key }}) as n
            from {{ relation }}
            group by {{ key }}
            having count(*) > 1
        ) as keys
    ) as found
    where repeated > 0;
{% endmacro %}
