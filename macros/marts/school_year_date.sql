{#-
    A date of school year `school_year` (named by the year it ends in): `month_day` (`'07-01'`) of the calendar
    year the school year starts in, or, with `in_end_year=true`, of the year it ends in.
-#}
{% macro school_year_date(school_year, month_day, in_end_year=false) -%}
    cast({{ dbt.concat([
        "cast(" ~ school_year ~ (" - 1" if not in_end_year else "") ~ " as " ~ dbt.type_string() ~ ")",
        "'-" ~ month_day ~ "'",
    ]) }} as date)
{%- endmacro %}
