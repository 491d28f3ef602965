{#-
    Why a group or a membership that should have been sent was not: one row per problem, naming the group
    (and the user for memberships). The export's summary.json lists these rows; nothing here is sent.
-#}

{%- set max_length = edfi_cohort_identifier_max_length() -%}

with

cohorts as (

    select * from {{ ref('edfi_cohorts_evaluated') }}
    where outcome = 'error'

),

memberships as (

    select * from {{ ref('edfi_staff_cohort_associations_evaluated') }}
    where outcome = 'error'

),

cohort_errors as (

    select
        group_id,
        school_year,
        'empty_identifier' as error_code,
        'the group name is empty after trimming, so it has no cohortIdentifier' as reason
    from cohorts
    where is_identifier_empty

    union all

    select
        group_id,
        school_year,
        'identifier_too_long' as error_code,
        {{ dbt.concat([
            "'cohortIdentifier \"'", "cohort_identifier", "'\" is '",
            "cast(cohort_identifier_length as " ~ dbt.type_string() ~ ")",
            "' characters; the limit is " ~ max_length ~ " (EDFI_COHORT_ID_MAX_LENGTH)'"
        ]) }} as reason
    from cohorts
    where is_identifier_too_long

    union all

    select
        group_id,
        school_year,
        'description_too_long' as error_code,
        {{ dbt.concat([
            "'cohortDescription is '",
            "cast(cohort_description_length as " ~ dbt.type_string() ~ ")",
            "' characters; the limit is 1024'"
        ]) }} as reason
    from cohorts
    where is_description_too_long

    union all

    select
        group_id,
        school_year,
        'duplicate_identifier' as error_code,
        {{ dbt.concat([
            "'cohortIdentifier \"'", "cohort_identifier", "'\" is used by several groups in school year '",
            "cast(school_year as " ~ dbt.type_string() ~ ")", "' (groups '", "duplicate_group_ids",
            "'); none of them is sent'"
        ]) }} as reason
    from cohorts
    where is_duplicate_identifier

),

membership_errors as (

    select
        group_id,
        user_id,
        school_year,
        case
            when not is_group_found then 'unknown_group'
            when not is_user_found then 'unknown_user'
            when staff_unique_id is null then 'missing_staff_unique_id'
            else 'staff_unique_id_too_long'
        end as error_code,
        case
            when not is_group_found then 'the group is not in groups'
            when not is_user_found then 'the member is not in users'
            when staff_unique_id is null then 'the member has no stateStaffId (the Ed-Fi staffUniqueId)'
            else 'the member''s stateStaffId is longer than 32 characters'
        end as reason
    from memberships

),

final as (

    select
        'cohorts' as resource,
        group_id,
        cast(null as {{ dbt.type_string() }}) as user_id,
        school_year,
        error_code,
        reason
    from cohort_errors

    union all

    select
        'staffCohortAssociations' as resource,
        group_id,
        user_id,
        school_year,
        error_code,
        reason
    from membership_errors

)

select * from final
