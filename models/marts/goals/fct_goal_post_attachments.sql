{#- One row per file attached to a goal post. -#}

with

source as (

    select * from {{ ref('stg_edreflect__goals__posts__attachments') }}

),

roots as (

    select goal_id as root_id, is_deleted from {{ ref('stg_edreflect__goals') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['source.parent_id', 'source.array_index']) }} as goal_post_attachment_key,
        source.root_id as goal_id,
        source.parent_id as goal_post_id,
        source.artifact_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.file_name,
        source.mime_type,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
