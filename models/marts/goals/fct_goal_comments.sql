{#- One row per comment on a goal. -#}

with

source as (

    select * from {{ ref('stg_edreflect__goals__comments') }}

),

roots as (

    select goal_id as root_id, is_deleted from {{ ref('stg_edreflect__goals') }}

),

final as (

    select
        ---------- ids
        source.comment_id as goal_comment_id,
        source.root_id as goal_id,
        source.author_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.body,

        ---------- timestamps
        source.created_at,
        source.edited_at,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
