{#- One row per meeting note of an observation activity (`observations.activityMeetingNotes`). -#}

with

source as (

    select * from {{ ref('stg_edreflect__observations__activity_meeting_notes') }}

),

roots as (

    select observation_id as root_id, is_deleted from {{ ref('stg_edreflect__observations') }}

),

final as (

    select
        ---------- ids
        source.activity_meeting_note_id as meeting_note_id,
        source.root_id as observation_id,
        source.activity_id,
        source.author_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.title,

        ---------- timestamps
        source.meeting_at,
        source.created_at,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
