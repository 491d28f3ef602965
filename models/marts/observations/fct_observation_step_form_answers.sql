{#- One row per form element answered in a work step. -#}

with

observation_step_form_answers as (

    select * from {{ ref('stg_edreflect__observations__work__steps__form_elements') }}

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
        {{ item_key(['observation_step_form_answers.parent_id', 'observation_step_form_answers.array_index']) }}
            as form_answer_key,
        observation_step_form_answers.root_id as observation_id,
        observation_step_form_answers.parent_id as work_step_id,
        observation_step_form_answers.element_id,
        observation_step_form_answers.choice_id,
        observation_step_form_answers.answered_by as answered_by_user_id,

        ---------- properties
        observation_step_form_answers.array_index as position_in_parent,
        observation_step_form_answers.answer,

        ---------- timestamps
        observation_step_form_answers.answered_at,

        ---------- soft delete
        observations.is_deleted

    from observation_step_form_answers
    left join observations
        on observation_step_form_answers.root_id = observations.observation_id

)

select * from final
