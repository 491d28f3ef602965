{#-
    One row per sub-item (look-for) an observer checked for the chosen level of a scored indicator, with the
    line's text from the descriptor (macros/marts/marts_shapes.sql: indicator_subitem_checks).
-#}

{{ indicator_subitem_checks(
    checks_source='stg_edreflect__observations__work__evaluations__indicators__proficiency_level_subitem_index',
    scores_source='stg_edreflect__observations__work__evaluations__indicators',
    score_id='evaluation_indicator_id',
    root='stg_edreflect__observations',
    root_id='observation_id',
) }}
