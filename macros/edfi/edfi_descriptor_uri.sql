{#- An Ed-Fi descriptor URI, `<namespace>#<codeValue>`; null when the code is null. -#}
{% macro edfi_descriptor_uri(namespace, code_value) -%}
    case when {{ code_value }} is not null then {{ dbt.concat([namespace, "'#'", code_value]) }} end
{%- endmacro %}
