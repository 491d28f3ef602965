{#- One row per meeting note of an observation activity (`observations.activityMeetingNotes`). -#}

with

observation_meeting_notes as (

    select * from {{ ref('stg_edreflect__observations__activity_meeting_notes') }}

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
        observation_meeting_notes.activity_meeting_note_id as meeting_note_id,
        observation_meeting_notes.root_id as observation_id,
        observation_meeting_notes.activity_id,
        observation_meeting_notes.author_id,

        ---------- properties
        observation_meeting_notes.array_index as position_in_parent,
        observation_meeting_notes.title,

        ---------- timestamps
        observation_meeting_notes.meeting_at,
        observation_meeting_notes.created_at,

        ---------- soft delete
        observations.is_deleted

    from observation_meeting_notes
    left join observations
        on observation_meeting_notes.root_id = observations.observation_id

)

select * from final
