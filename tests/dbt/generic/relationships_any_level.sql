{#-
    relationships_any_level: every non-null value of the column is a `field` value of one of `to_models`
    (e.g. an indicator id of any of the four rubric indicator levels, contract section 6).
-#}
{% test relationships_any_level(model, column_name, to_models, field) %}
with

parents as (
    {%- for to_model in to_models %}
    select {{ field }} as id from {{ ref(to_model) }}
    {{- "\n    union all" if not loop.last }}
    {%- endfor %}
),

children as (
    select {{ column_name }} as id from {{ model }}
    where {{ column_name }} is not null
)

select children.id
from children
left join parents on children.id = parents.id
where parents.id is null
{% endtest %}
