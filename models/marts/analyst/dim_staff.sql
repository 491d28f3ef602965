{#-
    One row per educator (every `users` document: learners and observers), conformed for analysts: trimmed names,
    one primary school, and a current flag. Holds personal data: columns tagged `pii`.

    Primary-school rule (a user's `subOrgs` may flag several schools as primary, or none):
    1. the first school, in the order of the user's school list, that is flagged primary;
    2. else the first school of the list;
    3. else the district-wide member of dim_school (the district's `org_id`).
    `primary_school_rule` says which step chose it; `flagged_primary_count` shows the ambiguity.
-#}

with

users as (

    select * from {{ ref('stg_edreflect__users') }}

),

user_schools as (

    select * from {{ ref('stg_edreflect__users__sub_orgs') }}

),

ranked_schools as (

    select
        root_id as user_id,
        sub_org_id as school_id,
        is_primary,
        count(*) over (partition by root_id) as school_count,
        count(case when is_primary then 1 end) over (partition by root_id) as flagged_primary_count,
        row_number() over (
            partition by root_id
            order by case when is_primary then 0 else 1 end, array_index
        ) as school_rank

    from user_schools

),

primary_schools as (

    select * from ranked_schools
    where school_rank = 1

),

final as (

    select
        ---------- ids
        users.user_id,
        users.org_id,
        coalesce(primary_schools.school_id, users.org_id) as primary_school_id,
        users.employee_id,
        users.state_staff_id,

        ---------- properties
        {{ display_text('users.name_first') }} as first_name,
        {{ display_text('users.name_last') }} as last_name,
        {{ dbt.concat([display_text('users.name_first'), "' '", display_text('users.name_last')]) }} as full_name,
        lower({{ display_text('users.email') }}) as email,
        {{ display_text('users.title') }} as title,
        case
            when primary_schools.flagged_primary_count = 1 then 'flagged primary'
            when primary_schools.flagged_primary_count > 1 then 'first of several flagged primaries'
            when primary_schools.school_id is not null then 'first listed school (none flagged)'
            else 'district-wide (no school)'
        end as primary_school_rule,
        coalesce(primary_schools.school_count, 0) as school_count,
        coalesce(primary_schools.flagged_primary_count, 0) as flagged_primary_count,

        ---------- dates
        users.hire_date,

        ---------- flags
        users.is_active,
        users.is_active and not users.is_deleted as is_current,

        ---------- soft delete
        users.is_deleted

    from users
    left join primary_schools
        on users.user_id = primary_schools.user_id

)

select * from final
