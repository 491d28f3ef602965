{#- One row per rating set on one rubric within a rating record (`ratings.rubricRatings`). -#}

with

rubric_ratings as (

    select * from {{ ref('stg_edreflect__ratings__rubric_ratings') }}

),

ratings as (

    select
        rating_id,
        is_deleted
    from {{ ref('stg_edreflect__ratings') }}

),

final as (

    select
        ---------- ids
        rubric_ratings.rubric_rating_id,
        rubric_ratings.root_id as rating_id,
        rubric_ratings.rubric_id,
        rubric_ratings.overall_proficiency_level_id,

        ---------- properties
        rubric_ratings.array_index as position_in_parent,
        rubric_ratings.overall_score,

        ---------- timestamps
        rubric_ratings.submitted_at,

        ---------- soft delete
        ratings.is_deleted

    from rubric_ratings
    left join ratings
        on rubric_ratings.root_id = ratings.rating_id

)

select * from final
