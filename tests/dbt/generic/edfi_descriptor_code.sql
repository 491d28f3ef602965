{#- Every non-null value is a code value of `namespace` in the edfi_descriptors seed. -#}
{% test edfi_descriptor_code(model, column_name, namespace) %}
    select {{ column_name }} as code_value
    from {{ model }}
    where {{ column_name }} is not null
        and {{ column_name }} not in (
            select {{ adapter.quote('codeValue') }} from {{ ref('edfi_descriptors') }} where namespace = '{{ namespace }}'
        )
{% endtest %}
