{#- One row per evidence attached to a work step. -#}

with

observation_step_evidences as (

    select * from {{ ref('stg_edreflect__observations__work__steps__evidences') }}

),

observations as (

    select
        observation_id,
        is_deleted
    from {{ ref('stg_edreflect__observations') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['observation_step_evidences.parent_id', 'observation_step_evidences.array_index']) }} as step_evidence_key,
        observation_step_evidences.root_id as observation_id,
        observation_step_evidences.parent_id as work_step_id,
        observation_step_evidences.value as evidence_id,

        ---------- properties
        observation_step_evidences.array_index as position_in_parent,

        ---------- soft delete
        observations.is_deleted

    from observation_step_evidences
    left join observations
        on observation_step_evidences.root_id = observations.observation_id

)

select * from final
