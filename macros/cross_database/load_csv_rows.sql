{#-
    Seeds on Spark: dbt-spark's session method pastes each value into the SQL between quotes without escaping
    it, so a value with an apostrophe (the contract's descriptions have many) breaks the insert. Here each value
    is a literal with its apostrophes spelt `chr(39)`; string literals are raw on Spark here (profiles.yml),
    so backslashes stay as they are.
-#}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set rows = [] -%}
        {%- for row in chunk -%}
            {%- set values = [] -%}
            {%- for col_name in agate_table.column_names -%}
                {%- set type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
                {%- set value = row[loop.index0] -%}
                {%- if value is none -%}
                    {%- do values.append('cast(null as ' ~ type ~ ')') -%}
                {%- else -%}
                    {%- set text = value | string -%}
                    {%- if value is sameas true or value is sameas false -%}
                        {%- set text = 'true' if value else 'false' -%}
                    {%- endif -%}
                    {%- set literal = "concat('" ~ text.replace("'", "', chr(39), '") ~ "')" -%}
                    {%- do values.append('cast(' ~ literal ~ ' as ' ~ type ~ ')') -%}
                {%- endif -%}
            {%- endfor -%}
            {%- do rows.append('(' ~ values | join(', ') ~ ')') -%}
        {%- endfor -%}
        {%- set sql = 'insert into ' ~ this.render() ~ ' values\n' ~ rows | join(',\n') -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- do statements.append(sql) -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{%- endmacro %}
