{#-
    One row per sub-item (look-for) a rater checked for the chosen level of a scored indicator, with the
    line's text: the checked index is a line number of the descriptor of (indicator, chosen level) (contract
    section 6), and the line is read from int_rubric_descriptor_subitems_split.
-#}

with

checks as (

    select * from {{ ref('stg_edreflect__ratings__rubric_ratings__indicators__proficiency_level_subitem_index') }}

),

scores as (

    select
        rubric_rating_indicator_id,
        indicator_id,
        proficiency_level_id
    from {{ ref('stg_edreflect__ratings__rubric_ratings__indicators') }}

),

subitems as (

    select * from {{ ref('int_rubric_descriptor_subitems_split') }}
    where descriptor_source = 'indicator'

),

ratings as (

    select
        rating_id,
        is_deleted
    from {{ ref('stg_edreflect__ratings') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['checks.parent_id', 'checks.array_index']) }} as subitem_check_key,
        checks.root_id as rating_id,
        checks.parent_id as rubric_rating_indicator_id,
        scores.indicator_id,
        scores.proficiency_level_id,
        subitems.subitem_key,

        ---------- properties
        checks.array_index as position_in_parent,
        checks.value as subitem_index,
        subitems.subitem_text,

        ---------- soft delete
        ratings.is_deleted

    from checks
    left join scores
        on checks.parent_id = scores.rubric_rating_indicator_id
    left join subitems
        on scores.indicator_id = subitems.indicator_id
            and scores.proficiency_level_id = subitems.proficiency_level_id
            and checks.value = subitems.subitem_index
    left join ratings
        on checks.root_id = ratings.rating_id

)

select * from final
