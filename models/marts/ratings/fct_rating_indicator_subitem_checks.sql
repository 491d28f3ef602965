{#-
    One row per sub-item (look-for) a rater checked for the chosen level of a scored indicator, with the
    line's text from the descriptor (macros/marts/marts_shapes.sql: indicator_subitem_checks).
-#}

{{ indicator_subitem_checks(
    checks_source='stg_edreflect__ratings__rubric_ratings__indicators__proficiency_level_subitem_index',
    scores_source='stg_edreflect__ratings__rubric_ratings__indicators',
    score_id='rubric_rating_indicator_id',
    root='stg_edreflect__ratings',
    root_id='rating_id',
) }}
