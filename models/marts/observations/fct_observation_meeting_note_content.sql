{#- One row per content block of a meeting note (multi-line text or HTML). -#}

with

observation_meeting_note_content as (

    select * from {{ ref('stg_edreflect__observations__activity_meeting_notes__content') }}

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
        {{ item_key(['observation_meeting_note_content.parent_id', 'observation_meeting_note_content.array_index']) }}
            as meeting_note_content_key,
        observation_meeting_note_content.root_id as observation_id,
        observation_meeting_note_content.parent_id as meeting_note_id,

        ---------- properties
        observation_meeting_note_content.array_index as position_in_parent,
        observation_meeting_note_content.heading,
        observation_meeting_note_content.format,
        observation_meeting_note_content.body,

        ---------- soft delete
        observations.is_deleted

    from observation_meeting_note_content
    left join observations
        on observation_meeting_note_content.root_id = observations.observation_id

)

select * from final
