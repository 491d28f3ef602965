{#-
    The Ed-Fi audit: every group and every membership, one row each, with its outcome and a sentence a
    district reads to see why (sent, skipped, or the errors of edfi_export_errors, where those sentences
    live). Severity: error (not sent), warning (sent, but something is worth a look: a cohort without
    cohortScopeDescriptor because its category is not mapped), info (sent or skipped as the rules say).
-#}

with

cohorts as (

    select * from {{ ref('edfi_cohorts_evaluated') }}

),

memberships as (

    select * from {{ ref('edfi_staff_cohort_associations_evaluated') }}

),

errors as (

    select
        resource,
        group_id,
        coalesce(user_id, '') as user_key,
        {{ dbt.listagg('reason', "'; '", 'order by error_code') }} as reasons

    from {{ ref('edfi_export_errors') }}
    group by 1, 2, 3

),

cohort_outcomes as (

    select
        'cohorts' as resource,
        cohorts.group_id,
        cast(null as {{ dbt.type_string() }}) as user_id,
        cohorts.school_year,
        cohorts.outcome,
        case
            when cohorts.outcome = 'error' then 'error'
            when cohorts.outcome = 'sent' and cohorts.cohort_scope_descriptor is null
                and {{ edfi_match_key('cohorts.group_category') }} is not null then 'warning'
            else 'info'
        end as severity,
        case
            when cohorts.outcome = 'error' then errors.reasons
            when cohorts.outcome = 'skipped_deleted' then 'not sent: the group is deleted in EdReflect'
            when cohorts.outcome = 'skipped_unmapped' and cohorts.has_group_override
                then 'not sent: the group is unmapped by its own row in seeds/xwalk_cohort_types.csv'
            when cohorts.outcome = 'skipped_unmapped'
                then {{ dbt.concat(["'not sent: groups of type \"'", "coalesce(cohorts.group_type, '')",
                    "'\" are not mapped to a cohort type (seeds/xwalk_cohort_types.csv)'"]) }}
            when cohorts.outcome = 'skipped_school_year'
                then {{ dbt.concat(["'not sent: school year '",
                    "cast(cohorts.school_year as " ~ dbt.type_string() ~ ")",
                    "' is not configured (EDFI_SCHOOL_YEARS)'"]) }}
            when cohorts.cohort_scope_descriptor is null
                and {{ edfi_match_key('cohorts.group_category') }} is not null
                then {{ dbt.concat(["'sent without cohortScopeDescriptor: category \"'",
                    edfi_trim('cohorts.group_category'),
                    "'\" is not mapped to a cohort scope (seeds/xwalk_cohort_scopes.csv)'"]) }}
            when cohorts.cohort_scope_descriptor is null
                then 'sent without cohortScopeDescriptor: the group has no category'
            else 'sent'
        end as reason

    from cohorts
    left join errors
        on errors.resource = 'cohorts'
            and cohorts.group_id = errors.group_id
            and errors.user_key = ''

),

membership_outcomes as (

    select
        'staffCohortAssociations' as resource,
        memberships.group_id,
        memberships.user_id,
        memberships.school_year,
        memberships.outcome,
        case when memberships.outcome = 'error' then 'error' else 'info' end as severity,
        case
            when memberships.outcome = 'error' then errors.reasons
            when memberships.outcome = 'skipped_cohort_not_sent'
                then {{ dbt.concat(["'not sent: its cohort is not sent ('", "memberships.cohort_outcome", "')'"]) }}
            when memberships.outcome = 'skipped_user_deleted' then 'not sent: the user is deleted in EdReflect'
            when memberships.outcome = 'skipped_duplicate'
                then 'not sent: the same staff member is already associated with this cohort (earliest beginDate kept)'
            when memberships.is_begin_date_defaulted
                then 'sent; beginDate is July 1 of the school year (the membership has no addedAt)'
            else 'sent'
        end as reason

    from memberships
    left join errors
        on errors.resource = 'staffCohortAssociations'
            and memberships.group_id = errors.group_id
            and memberships.user_id = errors.user_key

),

final as (

    select * from cohort_outcomes
    union all
    select * from membership_outcomes

)

select * from final
