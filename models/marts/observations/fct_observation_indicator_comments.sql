{#- One row per comment on a scored indicator of an observation evaluation. -#}

with

source as (

    select * from {{ ref('stg_edreflect__observations__work__evaluations__indicators__comments') }}

),

roots as (

    select
        observation_id as root_id,
        is_deleted
    from {{ ref('stg_edreflect__observations') }}

),

final as (

    select
        ---------- ids
        source.comment_id as indicator_comment_id,
        source.root_id as observation_id,
        source.parent_id as evaluation_indicator_id,
        source.author_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.body,

        ---------- flags
        source.is_visible_to_learner,

        ---------- timestamps
        source.created_at,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
