{#-
    One row per sub-item (look-for) of a proficiency-level descriptor: the descriptor's `subitems` text split
    into its lines, numbered from 0 like the `proficiencyLevelSubitemIndex` values that point at them.
    A descriptor with more lines than the number series holds fails the singular test
    `assert_descriptor_subitems_fit_number_series`, so no line is silently dropped.
-#}

with

descriptors as (

    select * from {{ ref('int_rubric_proficiency_descriptors_flattened') }}
    where subitem_count > 0

),

line_numbers as (

    {{ integers_below_power_of_ten(3) }}

),

split as (

    select
        {{ item_key(['descriptors.descriptor_key', 'line_numbers.n']) }} as subitem_key,
        descriptors.descriptor_key,
        descriptors.rubric_id,
        descriptors.indicator_id,
        descriptors.standard_id,
        descriptors.proficiency_level_id,
        descriptors.descriptor_source,
        line_numbers.n as subitem_index,
        {{ split_part_at('descriptors.subitems', newline_char(), 'line_numbers.n + 1') }} as subitem_text

    from descriptors
    inner join line_numbers
        on descriptors.subitem_count > line_numbers.n

)

select * from split
