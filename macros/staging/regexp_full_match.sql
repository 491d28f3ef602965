{#-
    regexp_full_match(expression, pattern): a boolean SQL expression, does the whole of `expression` match
    the regular expression `pattern`? (The `contract_conformance` test checks each value's form with it.)
-#}
{% macro regexp_full_match(expression, pattern) -%}
    {{ return(adapter.dispatch('regexp_full_match', 'edreflect_edfi')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regexp_full_match(expression, pattern) -%}
    {{ return(expression ~ " ~ '^(" ~ pattern ~ ")$'") }}
{%- endmacro %}

{% macro duckdb__regexp_full_match(expression, pattern) -%}
    {{ return("regexp_full_match(" ~ expression ~ ", '" ~ pattern ~ "')") }}
{%- endmacro %}

{#- Spark: `rlike` finds a match anywhere; the anchors make it whole (string literals are raw: profiles.yml). -#}
{% macro spark__regexp_full_match(expression, pattern) -%}
    {{ return(expression ~ " rlike '^(" ~ pattern ~ ")$'") }}
{%- endmacro %}
