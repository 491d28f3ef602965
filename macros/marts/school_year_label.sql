{#- `2024-25` for school year 2025 (contract section 4: a school year is named by the calendar year it ends in). -#}
{% macro school_year_label(school_year) -%}
    {{ dbt.concat([
        "cast(" ~ school_year ~ " - 1 as " ~ dbt.type_string() ~ ")",
        "'-'",
        dbt.right("cast(" ~ school_year ~ " as " ~ dbt.type_string() ~ ")", "2"),
    ]) }}
{%- endmacro %}
