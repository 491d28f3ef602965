{#- Integers 0 .. 10^digits - 1 as column `n`, from cross-joined digits (no generate_series needed). -#}
{% macro integers_below_power_of_ten(digits=3) -%}
    {%- set powers = [] -%}
    {%- for d in range(digits) -%}{%- do powers.append("d" ~ d ~ ".digit * " ~ (10 ** d)) -%}{%- endfor -%}
    select {{ powers | join(' + ') }} as n
    from
    {%- for d in range(digits) %}
        (
            select 0 as digit union all select 1 union all select 2 union all select 3 union all select 4
            union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
        ) as d{{ d }}{% if not loop.last %} cross join{% endif %}
    {%- endfor %}
{%- endmacro %}
