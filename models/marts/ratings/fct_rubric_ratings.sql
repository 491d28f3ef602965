{#- One row per rating set on one rubric within a rating record (`ratings.rubricRatings`). -#}

with

source as (

    select * from {{ ref('stg_edreflect__ratings__rubric_ratings') }}

),

roots as (

    select rating_id as root_id, is_deleted from {{ ref('stg_edreflect__ratings') }}

),

final as (

    select
        ---------- ids
        source.rubric_rating_id,
        source.root_id as rating_id,
        source.rubric_id,
        source.overall_proficiency_level_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.overall_score,

        ---------- timestamps
        source.submitted_at,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
