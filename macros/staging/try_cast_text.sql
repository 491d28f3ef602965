{#-
    try_cast_text(column, data_type): the value of a raw text column as `data_type`. Empty text is null
    (contract section 3); a value that does not parse becomes null instead of failing the view, and the
    model's `contract_conformance` test reports it with its file and line.
-#}
{% macro try_cast_text(column, data_type) -%}
    {{ return(safe_cast_or_null("nullif(" ~ column ~ ", '')", data_type)) }}
{%- endmacro %}
