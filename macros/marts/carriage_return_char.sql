{#- The carriage-return character (CRLF line ends inside sub-item lists are read as LF). -#}
{% macro carriage_return_char() -%}
    chr(13)
{%- endmacro %}
