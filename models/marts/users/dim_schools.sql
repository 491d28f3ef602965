{#-
    One row per school. Schools have no file of their own (contract section 5): they are the distinct
    `subOrgId`s of the users' school lists. When users spell a school's name or state number differently, the
    most frequent spelling wins (ties: alphabetical first), so the key stays unique.
-#}

with

user_schools as (

    select
        user_schools.sub_org_id as school_id,
        users.org_id,
        user_schools.name as school_name,
        user_schools.state_school_id,
        user_schools.root_id as user_id,
        user_schools.is_primary

    from {{ ref('stg_edreflect__users__sub_orgs') }} as user_schools
    left join {{ ref('stg_edreflect__users') }} as users
        on user_schools.root_id = users.user_id

),

name_votes as (

    select
        school_id,
        school_name,
        row_number() over (partition by school_id order by count(*) desc, school_name) as name_rank

    from user_schools
    group by school_id, school_name

),

state_id_votes as (

    select
        school_id,
        state_school_id,
        row_number() over (partition by school_id order by count(*) desc, state_school_id) as state_id_rank

    from user_schools
    where state_school_id is not null
    group by school_id, state_school_id

),

counts as (

    select
        school_id,
        max(org_id) as org_id,
        count(distinct user_id) as user_count,
        count(distinct case when is_primary then user_id end) as primary_user_count

    from user_schools
    group by school_id

),

final as (

    select
        ---------- ids
        counts.school_id,
        counts.org_id,

        ---------- properties
        name_votes.school_name,
        state_id_votes.state_school_id,
        counts.user_count,
        counts.primary_user_count

    from counts
    left join name_votes
        on counts.school_id = name_votes.school_id
            and name_votes.name_rank = 1
    left join state_id_votes
        on counts.school_id = state_id_votes.school_id
            and state_id_votes.state_id_rank = 1

)

select * from final
