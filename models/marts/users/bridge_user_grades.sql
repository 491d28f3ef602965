{#- One row per grade level on a user's profile page (`users.grades`). -#}

with

user_grades as (

    select * from {{ ref('stg_edreflect__users__grades') }}

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
        {{ item_key(['user_grades.parent_id', 'user_grades.array_index']) }} as user_grade_key,
        user_grades.root_id as user_id,

        ---------- properties
        user_grades.array_index as position_in_parent,
        user_grades.value as grade_level,

        ---------- soft delete
        users.is_deleted

    from user_grades
    left join users
        on user_grades.root_id = users.user_id

)

select * from final
