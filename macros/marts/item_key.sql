{#- Key of an array item that has no `_id` of its own: `<parent id>#<index>[#<index>...]` (contract section 5). -#}
{% macro item_key(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- if not loop.first %}{% do parts.append("'#'") %}{% endif -%}
        {%- do parts.append("cast(" ~ column ~ " as " ~ dbt.type_string() ~ ")") -%}
    {%- endfor -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}
