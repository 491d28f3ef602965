{#- One row per status change message of a work step. -#}

with

observation_step_status_messages as (

    select * from {{ ref('stg_edreflect__observations__work__steps__status_messages') }}

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
        {{ item_key(['observation_step_status_messages.parent_id', 'observation_step_status_messages.array_index']) }}
            as status_message_key,
        observation_step_status_messages.root_id as observation_id,
        observation_step_status_messages.parent_id as work_step_id,
        observation_step_status_messages.created_by as created_by_user_id,

        ---------- properties
        observation_step_status_messages.array_index as position_in_parent,
        observation_step_status_messages.status,
        observation_step_status_messages.message,

        ---------- timestamps
        observation_step_status_messages.created_at,

        ---------- soft delete
        observations.is_deleted

    from observation_step_status_messages
    left join observations
        on observation_step_status_messages.root_id = observations.observation_id

)

select * from final
