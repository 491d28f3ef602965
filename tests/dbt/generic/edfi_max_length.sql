{#- No value is longer than max_length, counted as the Ed-Fi ODS counts (UTF-16 code units). -#}
{% test edfi_max_length(model, column_name, max_length) %}
    select {{ column_name }} as value
    from {{ model }}
    where {{ edfi_utf16_length(column_name) }} > {{ max_length }}
{% endtest %}
