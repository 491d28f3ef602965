{#- One row per rating of an SLO assessment. -#}

with

slo_assessment_ratings as (

    select * from {{ ref('stg_edreflect__slos__answers__assessments__ratings') }}

),

slos as (

    select
        slo_id,
        is_deleted
    from {{ ref('stg_edreflect__slos') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['slo_assessment_ratings.parent_id', 'slo_assessment_ratings.array_index']) }} as slo_assessment_rating_key,
        slo_assessment_ratings.root_id as slo_id,
        slo_assessment_ratings.parent_id as slo_assessment_id,
        slo_assessment_ratings.rater_id,

        ---------- properties
        slo_assessment_ratings.array_index as position_in_parent,
        slo_assessment_ratings.rating,
        slo_assessment_ratings.score,
        slo_assessment_ratings.comment,

        ---------- timestamps
        slo_assessment_ratings.rated_at,

        ---------- soft delete
        slos.is_deleted

    from slo_assessment_ratings
    left join slos
        on slo_assessment_ratings.root_id = slos.slo_id

)

select * from final
