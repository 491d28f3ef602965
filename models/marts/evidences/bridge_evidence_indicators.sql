{#- One row per rubric indicator an evidence is aligned to (`evidences.indicators`). -#}

with

source as (

    select * from {{ ref('stg_edreflect__evidences__indicators') }}

),

roots as (

    select evidence_id as root_id, is_deleted from {{ ref('stg_edreflect__evidences') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['source.parent_id', 'source.array_index']) }} as evidence_indicator_key,
        source.root_id as evidence_id,
        source.rubric_id,
        source.indicator_id,
        source.aligned_by as aligned_by_user_id,

        ---------- properties
        source.array_index as position_in_parent,

        ---------- timestamps
        source.aligned_at,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
