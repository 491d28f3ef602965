{#- One row per file on a user's profile (`users.files`): certifications, resumes, portfolios. -#}

with

user_files as (

    select * from {{ ref('stg_edreflect__users__files') }}

),

users as (

    select
        user_id,
        is_deleted
    from {{ ref('stg_edreflect__users') }}

),

final as (

    select
        ---------- ids
        {{ item_key(['user_files.parent_id', 'user_files.array_index']) }} as user_file_key,
        user_files.root_id as user_id,
        user_files.artifact_id,

        ---------- properties
        user_files.array_index as position_in_parent,
        user_files.file_name,
        user_files.category,

        ---------- timestamps
        user_files.uploaded_at,

        ---------- soft delete
        users.is_deleted

    from user_files
    left join users
        on user_files.root_id = users.user_id

)

select * from final
