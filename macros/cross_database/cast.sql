{#-
    Spark spells some of the types the models' contracts and casts name (`data_type` in the marts' YAML):
    `varchar` needs a length there, `timestamp with time zone` is `timestamp` (an instant) and `double
    precision` is `double`. dbt's `cast` (the contracts' empty-schema check uses it) translates them on Spark.
-#}
{% macro spark__cast(field, type) -%}
    {%- set spark_types = {
        'varchar': 'string',
        'text': 'string',
        'timestamp with time zone': 'timestamp',
        'timestamptz': 'timestamp',
        'double precision': 'double',
        'integer': 'int',
    } -%}
    cast({{ field }} as {{ spark_types.get(type | trim | lower, type) }})
{%- endmacro %}
