{#- Generic data tests of the Ed-Fi seeds and models. -#}

{% test edfi_descriptor_code(model, column_name, namespace) %}
    {#- Every non-null value is a code value of `namespace` in the edfi_descriptors seed. -#}
    select {{ column_name }} as code_value
    from {{ model }}
    where {{ column_name }} is not null
        and {{ column_name }} not in (
            select {{ adapter.quote('codeValue') }} from {{ ref('edfi_descriptors') }} where namespace = '{{ namespace }}'
        )
{% endtest %}


{% test edfi_descriptor_uri(model, column_name, namespace) %}
    {#- Every non-null value is `<namespace>#<codeValue>` of a descriptor in the edfi_descriptors seed. -#}
    select {{ column_name }} as descriptor_uri
    from {{ model }}
    where {{ column_name }} is not null
        and {{ column_name }} not in (
            select {{ dbt.concat(['namespace', "'#'", adapter.quote('codeValue')]) }}
            from {{ ref('edfi_descriptors') }}
            where namespace = '{{ namespace }}'
        )
{% endtest %}


{% test edfi_max_length(model, column_name, max_length) %}
    select {{ column_name }} as value
    from {{ model }}
    where {{ edfi_utf16_length(column_name) }} > {{ max_length }}
{% endtest %}
