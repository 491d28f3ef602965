{#- One row per evidence attached to a work step. -#}

with

source as (

    select * from {{ ref('stg_edreflect__observations__work__steps__evidences') }}

),

roots as (

    select observation_id as root_id, is_deleted from {{ ref('stg_edreflect__observations') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['source.parent_id', 'source.array_index']) }} as step_evidence_key,
        source.root_id as observation_id,
        source.parent_id as work_step_id,
        source.value as evidence_id,

        ---------- properties
        source.array_index as position_in_parent,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
