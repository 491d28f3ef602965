{#- One row per rubric indicator an evidence is aligned to (`evidences.indicators`). -#}

with

evidence_indicators as (

    select * from {{ ref('stg_edreflect__evidences__indicators') }}

),

evidences as (

    select
        evidence_id,
        is_deleted
    from {{ ref('stg_edreflect__evidences') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['evidence_indicators.parent_id', 'evidence_indicators.array_index']) }} as evidence_indicator_key,
        evidence_indicators.root_id as evidence_id,
        evidence_indicators.rubric_id,
        evidence_indicators.indicator_id,
        evidence_indicators.aligned_by as aligned_by_user_id,

        ---------- properties
        evidence_indicators.array_index as position_in_parent,

        ---------- timestamps
        evidence_indicators.aligned_at,

        ---------- soft delete
        evidences.is_deleted

    from evidence_indicators
    left join evidences
        on evidence_indicators.root_id = evidences.evidence_id

)

select * from final
