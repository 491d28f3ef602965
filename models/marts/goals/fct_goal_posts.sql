{#- One row per post (progress update or reflection) on a goal. -#}

with

source as (

    select * from {{ ref('stg_edreflect__goals__posts') }}

),

roots as (

    select goal_id as root_id, is_deleted from {{ ref('stg_edreflect__goals') }}

),

final as (

    select
        ---------- ids
        source.post_id as goal_post_id,
        source.root_id as goal_id,
        source.author_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.title,
        source.body,
        source.visibility,

        ---------- timestamps
        source.created_at,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
