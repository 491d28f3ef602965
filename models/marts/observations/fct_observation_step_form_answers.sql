{#- One row per form element answered in a work step. -#}

{{ root_array_items(
    source='stg_edreflect__observations__work__steps__form_elements',
    root='stg_edreflect__observations',
    root_id='observation_id',
    key='form_answer_key',
    ids=[
        'source.root_id as observation_id',
        'source.parent_id as work_step_id',
        'source.element_id',
        'source.choice_id',
        'source.answered_by as answered_by_user_id',
    ],
    properties=['source.answer'],
    timestamps=['source.answered_at'],
) }}
