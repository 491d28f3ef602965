{#-
    No two rows share the values of `columns` (names as the relation spells them, quoted for the engine:
    the seeds' camelCase `codeValue` needs it on PostgreSQL, where Spark reads "codeValue" as a string).
-#}
{% test unique_combination(model, columns) %}
    select
        {% for column in columns %}{{ adapter.quote(column) }}, {% endfor %}count(*) as n_records
    from {{ model }}
    group by {% for column in columns %}{{ adapter.quote(column) }}{{ ', ' if not loop.last }}{% endfor %}
    having count(*) > 1
{% endtest %}
