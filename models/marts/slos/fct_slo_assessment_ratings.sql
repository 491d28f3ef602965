{#- One row per rating of an SLO assessment. -#}

with

source as (

    select * from {{ ref('stg_edreflect__slos__answers__assessments__ratings') }}

),

roots as (

    select slo_id as root_id, is_deleted from {{ ref('stg_edreflect__slos') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['source.parent_id', 'source.array_index']) }} as slo_assessment_rating_key,
        source.root_id as slo_id,
        source.parent_id as slo_assessment_id,
        source.rater_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.rating,
        source.score,
        source.comment,

        ---------- timestamps
        source.rated_at,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
