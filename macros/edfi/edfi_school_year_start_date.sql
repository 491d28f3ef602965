{#- July 1 of the calendar year before the school year (2025 = 2024-25 -> 2024-07-01). -#}
{% macro edfi_school_year_start_date(school_year_column) -%}
    cast(
        {{ dbt.concat([
            "cast(" ~ school_year_column ~ " - 1 as " ~ dbt.type_string() ~ ")",
            "'-07-01'"
        ]) }}
        as date
    )
{%- endmacro %}
