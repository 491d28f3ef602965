{#-
    One row per school, plus one district-wide member per district: records with no school (`subOrgId` empty =
    district-wide) land on it. Its `school_id` is the district's `org_id`, so every `school_id` of the analyst
    marts joins here. Names are trimmed; the raw spelling stays in dim_schools.
-#}

with

schools as (

    select * from {{ ref('dim_schools') }}

),

staff as (

    select * from {{ ref('dim_staff') }}

),

districts as (

    select distinct org_id from {{ ref('stg_edreflect__users') }}

),

primary_counts as (

    select
        primary_school_id as school_id,
        count(*) as primary_staff_count

    from staff
    group by primary_school_id

),

members as (

    select
        school_id,
        org_id,
        {{ display_text('school_name') }} as school_name,
        state_school_id,
        false as is_district_wide,
        user_count as staff_count

    from schools

    union all

    select
        org_id as school_id,
        org_id,
        'District-wide' as school_name,
        cast(null as {{ dbt.type_string() }}) as state_school_id,
        true as is_district_wide,
        0 as staff_count

    from districts

),

final as (

    select
        ---------- ids
        members.school_id,
        members.org_id,
        members.state_school_id,

        ---------- properties
        members.school_name,
        members.staff_count,
        coalesce(primary_counts.primary_staff_count, 0) as primary_staff_count,

        ---------- flags
        members.is_district_wide

    from members
    left join primary_counts
        on members.school_id = primary_counts.school_id

)

select * from final
