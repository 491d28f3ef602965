{#-
    Every proficiency-level descriptor as one table: the three indicator-level descriptor files (levels
    2-4) and the standard-specific descriptors of `rubrics.standards.indicators.proficiencyLevels`
    (contract section 6). `descriptor_source` tells them apart; `level` is the described indicator's level.
-#}
{%- set indicator_levels = [
    (2, 'stg_edreflect__rubrics__indicators__indicators__proficiency_levels'),
    (3, 'stg_edreflect__rubrics__indicators__indicators__indicators__proficiency_levels'),
    (4, 'stg_edreflect__rubrics__indicators__indicators__indicators__indicators__proficiency_levels'),
] -%}

with

{% for level, model in indicator_levels %}
    level_{{ level }}_descriptors as (

        select
            {{ item_key(['parent_id', 'array_index']) }} as descriptor_key,
            root_id as rubric_id,
            parent_id as indicator_id,
            cast(null as {{ dbt.type_string() }}) as standard_id,
            proficiency_level_id,
            'indicator' as descriptor_source,
            {{ level }} as level,
            cast(null as {{ dbt.type_bigint() }}) as indicator_index,
            array_index as position_in_list,
            description,
            subitems

        from {{ ref(model) }}

    ),

{% endfor %}
standard_descriptors as (

    select
        {{ item_key(['parent_id', 'indicator_index', 'array_index']) }} as descriptor_key,
        root_id as rubric_id,
        indicator_id,
        parent_id as standard_id,
        proficiency_level_id,
        'standard' as descriptor_source,
        cast(null as {{ dbt.type_bigint() }}) as level,
        indicator_index,
        array_index as position_in_list,
        description,
        subitems

    from {{ ref('stg_edreflect__rubrics__standards__indicators__proficiency_levels') }}

),

indicators as (

    select
        indicator_id,
        level
    from {{ ref('int_rubric_indicators_flattened') }}

),

unioned as (

    {% for level, model in indicator_levels -%}
        select * from level_{{ level }}_descriptors
        union all
    {% endfor -%}
    select
        standard_descriptors.descriptor_key,
        standard_descriptors.rubric_id,
        standard_descriptors.indicator_id,
        standard_descriptors.standard_id,
        standard_descriptors.proficiency_level_id,
        standard_descriptors.descriptor_source,
        indicators.level,
        standard_descriptors.indicator_index,
        standard_descriptors.position_in_list,
        standard_descriptors.description,
        standard_descriptors.subitems
    from standard_descriptors
    left join indicators
        on standard_descriptors.indicator_id = indicators.indicator_id

),

normalized as (

    -- sub-items are one per line (contract section 6); a CRLF line end counts as one line break
    select
        descriptor_key,
        rubric_id,
        indicator_id,
        standard_id,
        proficiency_level_id,
        descriptor_source,
        level,
        indicator_index,
        position_in_list,
        description,
        {{ dbt.replace('subitems', carriage_return_char(), "''") }} as subitems

    from unioned

),

final as (

    select
        *,
        -- a bigint on every engine (`length` is an integer on PostgreSQL, a bigint on DuckDB)
        cast(case
            when subitems is null then 0
            else {{ dbt.length('subitems') }}
                - {{ dbt.length(dbt.replace('subitems', newline_char(), "''")) }}
                + 1
        end as {{ dbt.type_bigint() }}) as subitem_count

    from normalized

)

select * from final
