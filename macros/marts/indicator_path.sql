{#-
    `<great-grandparent> > <grandparent> > <parent> > <own>` for an indicator of `level` 1-4, from the
    `parent_<part>`, `grandparent_<part>`, `great_grandparent_<part>` columns of int_rubric_indicators_flattened.
-#}
{% macro indicator_path(part, own, separator) -%}
    case level
        when 1 then {{ own }}
        when 2 then {{ dbt.concat(['parent_' ~ part, separator, own]) }}
        when 3 then {{ dbt.concat(['grandparent_' ~ part, separator, 'parent_' ~ part, separator, own]) }}
        when 4 then {{ dbt.concat([
            'great_grandparent_' ~ part, separator, 'grandparent_' ~ part, separator,
            'parent_' ~ part, separator, own,
        ]) }}
    end
{%- endmacro %}
