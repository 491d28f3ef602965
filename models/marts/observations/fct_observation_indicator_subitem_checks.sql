{#-
    One row per sub-item (look-for) an observer checked for the chosen level of a scored indicator, with the
    line's text: the checked index is a line number of the descriptor of (indicator, chosen level) (contract
    section 6), and the line is read from int_rubric_descriptor_subitems_split.
-#}

with

checks as (

    select * from {{ ref('stg_edreflect__observations__work__evaluations__indicators__proficiency_level_subitem_index') }}

),

scores as (

    select
        evaluation_indicator_id,
        indicator_id,
        proficiency_level_id
    from {{ ref('stg_edreflect__observations__work__evaluations__indicators') }}

),

subitems as (

    select * from {{ ref('int_rubric_descriptor_subitems_split') }}
    where descriptor_source = 'indicator'

),

observations as (

    select
        observation_id,
        is_deleted
    from {{ ref('stg_edreflect__observations') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['checks.parent_id', 'checks.array_index']) }} as subitem_check_key,
        checks.root_id as observation_id,
        checks.parent_id as evaluation_indicator_id,
        scores.indicator_id,
        scores.proficiency_level_id,
        subitems.subitem_key,

        ---------- properties
        checks.array_index as position_in_parent,
        checks.value as subitem_index,
        subitems.subitem_text,

        ---------- soft delete
        observations.is_deleted

    from checks
    left join scores
        on checks.parent_id = scores.evaluation_indicator_id
    left join subitems
        on scores.indicator_id = subitems.indicator_id
            and scores.proficiency_level_id = subitems.proficiency_level_id
            and checks.value = subitems.subitem_index
    left join observations
        on checks.root_id = observations.observation_id

)

select * from final
