{#- One row per file on a user's profile (`users.files`): certifications, resumes, portfolios. -#}

with

source as (

    select * from {{ ref('stg_edreflect__users__files') }}

),

roots as (

    select user_id as root_id, is_deleted from {{ ref('stg_edreflect__users') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['source.parent_id', 'source.array_index']) }} as user_file_key,
        source.root_id as user_id,
        source.artifact_id,

        ---------- properties
        source.array_index as position_in_parent,
        source.file_name,
        source.category,

        ---------- timestamps
        source.uploaded_at,

        ---------- soft delete
        roots.is_deleted

    from source
    left join roots
        on source.root_id = roots.root_id

)

select * from final
