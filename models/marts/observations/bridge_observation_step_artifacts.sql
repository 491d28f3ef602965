{#- One row per artifact attached to a work step. -#}

with

observation_step_artifacts as (

    select * from {{ ref('stg_edreflect__observations__work__steps__artifacts') }}

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
        {{ item_key(['observation_step_artifacts.parent_id', 'observation_step_artifacts.array_index']) }} as step_artifact_key,
        observation_step_artifacts.root_id as observation_id,
        observation_step_artifacts.parent_id as work_step_id,
        observation_step_artifacts.value as artifact_id,

        ---------- properties
        observation_step_artifacts.array_index as position_in_parent,

        ---------- soft delete
        observations.is_deleted

    from observation_step_artifacts
    left join observations
        on observation_step_artifacts.root_id = observations.observation_id

)

select * from final
