{#- One row per content block of a meeting note (multi-line text or HTML). -#}

with

source as (

    select * from {{ ref('stg_edreflect__observations__activity_meeting_notes__content') }}

),

roots as (

    select observation_id as root_id, is_deleted from {{ ref('stg_edreflect__observations') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['source.parent_id', 'source.array_index']) }} as meeting_note_content_key,
        source.root_id as observation_id,
        source.parent_id as meeting_note_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.heading,
        source.format,
        source.body,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
