{#- Every non-null value is `<namespace>#<codeValue>` of a descriptor in the edfi_descriptors seed. -#}
{% test edfi_descriptor_uri(model, column_name, namespace) %}
    select {{ column_name }} as descriptor_uri
    from {{ model }}
    where {{ column_name }} is not null
        and {{ column_name }} not in (
            select {{ dbt.concat(['namespace', "'#'", adapter.quote('codeValue')]) }}
            from {{ ref('edfi_descriptors') }}
            where namespace = '{{ namespace }}'
        )
{% endtest %}
