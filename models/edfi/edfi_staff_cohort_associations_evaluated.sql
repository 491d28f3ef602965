{#-
    Every group membership (users.groups, either role), with the StaffCohortAssociation it would become and
    the outcome: sent, skipped (cohort not sent, user deleted, duplicate of another membership) or error
    (unknown group, unknown user, no stateStaffId, staff id too long): an error stays with its membership,
    the other memberships and cohorts are still sent. One row per membership: every row is accounted for.
-#}

with

memberships as (

    select * from {{ ref('stg_edreflect__users__groups') }}

),

users as (

    select * from {{ ref('stg_edreflect__users') }}

),

cohorts as (

    select * from {{ ref('edfi_cohorts_evaluated') }}

),

joined as (

    select
        ---------- ids
        memberships.root_id as user_id,
        memberships.group_id,
        memberships.array_index,
        cohorts.school_year,
        cohorts.education_organization_id,

        ---------- source values
        memberships.role as membership_role,
        memberships.added_at,
        cohorts.outcome as cohort_outcome,
        cohorts.group_id is not null as is_group_found,
        users.user_id is not null as is_user_found,
        coalesce(users.is_deleted, false) as is_user_deleted,

        ---------- payload values
        cohorts.cohort_identifier,
        nullif({{ edfi_trim('users.state_staff_id') }}, '') as staff_unique_id,
        coalesce(
            {{ edfi_utc_date('memberships.added_at') }},
            {{ edfi_school_year_start_date('cohorts.school_year') }}
        ) as begin_date,
        memberships.added_at is null as is_begin_date_defaulted

    from memberships
    left join users
        on memberships.root_id = users.user_id
    left join cohorts
        on memberships.group_id = cohorts.group_id

),

checked as (

    select
        joined.*,
        {{ edfi_utf16_length('joined.staff_unique_id') }} > 32 as is_staff_unique_id_too_long,
        {#- Two memberships giving the same association (the same user twice, or two users sharing a state
            staff id, compared ignoring case as the API compares keys) would be one Ed-Fi record: the earliest
            beginDate is kept, the others are skipped. #}
        row_number() over (
            partition by
                joined.group_id,
                case
                    when joined.staff_unique_id is not null
                        and joined.is_user_found
                        and not joined.is_user_deleted
                        and joined.cohort_outcome = 'sent'
                        then lower(joined.staff_unique_id)
                    else joined.user_id
                end,
                case when joined.staff_unique_id is null then joined.array_index end
            order by joined.begin_date, joined.user_id, joined.array_index
        ) as membership_rank

    from joined

),

final as (

    select
        user_id,
        group_id,
        array_index,
        school_year,
        education_organization_id,
        membership_role,
        added_at,
        cohort_outcome,
        is_group_found,
        is_user_found,
        is_user_deleted,
        cohort_identifier,
        staff_unique_id,
        begin_date,
        is_begin_date_defaulted,
        coalesce(is_staff_unique_id_too_long, false) as is_staff_unique_id_too_long,
        case
            when not is_group_found then 'error'
            when cohort_outcome <> 'sent' then 'skipped_cohort_not_sent'
            when is_user_found and is_user_deleted then 'skipped_user_deleted'
            when not is_user_found then 'error'
            when staff_unique_id is null then 'error'
            when is_staff_unique_id_too_long then 'error'
            when membership_rank > 1 then 'skipped_duplicate'
            else 'sent'
        end as outcome

    from checked

)

select * from final
