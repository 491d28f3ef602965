{#-
    Every EdReflect group, with the Ed-Fi Cohort it would become and the outcome of the rules of
    COHORT_RULES.md: sent, skipped (deleted, unmapped, school year not configured) or error. One row per
    group, so every group is accounted for.
-#}

{%- set max_length = edfi_cohort_identifier_max_length() -%}

with

groups as (

    select * from {{ ref('stg_edreflect__groups') }}

),

type_mappings as (

    select * from {{ ref('xwalk_cohort_types') }}

),

scope_mappings as (

    select * from {{ ref('xwalk_cohort_scopes') }}

),

descriptors as (

    -- the seed keeps Ed-Fi's camelCase header; quoted, it reads the same on every engine
    select
        namespace,
        {{ adapter.quote('codeValue') }} as code_value
    from {{ ref('edfi_descriptors') }}

),

mapped as (

    select
        groups.*,
        by_id.match_value is not null as has_group_override,
        case
            when by_id.match_value is not null then by_id.cohort_type_code
            else by_type.cohort_type_code
        end as cohort_type_code,
        scope_mappings.cohort_scope_code

    from groups
    left join type_mappings as by_id
        on by_id.match_type = 'group_id'
            and trim(by_id.match_value) = groups.group_id
    left join type_mappings as by_type
        on by_type.match_type = 'group_type'
            and trim(by_type.match_value) = groups.type
    left join scope_mappings
        on {{ edfi_match_key('scope_mappings.category') }} = {{ edfi_match_key('groups.category') }}

),

shaped as (

    select
        ---------- ids
        mapped.group_id,
        mapped.school_year,
        cast({{ edfi_district_id() }} as {{ dbt.type_bigint() }}) as education_organization_id,

        ---------- source values
        mapped.name as group_name,
        mapped.type as group_type,
        mapped.category as group_category,
        mapped.is_deleted,
        mapped.has_group_override,
        mapped.cohort_type_code,

        ---------- payload values
        {{ edfi_trim('mapped.name') }} as cohort_identifier,
        nullif({{ edfi_trim('mapped.description') }}, '') as cohort_description,
        {{ edfi_descriptor_uri('scope_descriptors.namespace', 'scope_descriptors.code_value') }}
            as cohort_scope_descriptor,
        {{ edfi_descriptor_uri('type_descriptors.namespace', 'type_descriptors.code_value') }}
            as cohort_type_descriptor,

        ---------- rule checks
        mapped.cohort_type_code is not null as is_mapped,
        {{ edfi_school_year_is_configured('mapped.school_year') }} as is_school_year_configured,
        {{ edfi_utf16_length(edfi_trim('mapped.name')) }} as cohort_identifier_length,
        {{ edfi_utf16_length("nullif(" ~ edfi_trim('mapped.description') ~ ", '')") }} as cohort_description_length

    from mapped
    left join descriptors as scope_descriptors
        on scope_descriptors.namespace = 'uri://ed-fi.org/CohortScopeDescriptor'
            and mapped.cohort_scope_code = scope_descriptors.code_value
    {#- The business rule: the type is always `Other`; the mapping only decides whether a group is sent. #}
    left join descriptors as type_descriptors
        on type_descriptors.namespace = 'uri://ed-fi.org/CohortTypeDescriptor'
            and type_descriptors.code_value = 'Other'

),

checked as (

    select
        shaped.*,
        coalesce(shaped.cohort_identifier, '') = '' as is_identifier_empty,
        shaped.cohort_identifier_length > {{ max_length }} as is_identifier_too_long,
        coalesce(shaped.cohort_description_length, 0) > 1024 as is_description_too_long,
        not shaped.is_deleted and shaped.is_mapped and shaped.is_school_year_configured as is_in_scope

    from shaped

),

{#- Ed-Fi's natural key is (cohortIdentifier, educationOrganizationId) within a school year's ODS, which
    compares text ignoring case (SQL Server's default collation): two such groups would overwrite each
    other, so neither is sent. Only groups that would otherwise be sent compete for a name. #}

identifier_counts as (

    select
        school_year,
        lower(cohort_identifier) as identifier_key,
        count(*) as groups_with_identifier,
        {{ dbt.listagg('group_id', "', '", 'order by group_id') }} as group_ids

    from checked
    where is_in_scope
        and not is_identifier_empty
        and not is_identifier_too_long
    group by 1, 2

),

final as (

    select
        checked.group_id,
        checked.school_year,
        checked.education_organization_id,
        checked.group_name,
        checked.group_type,
        checked.group_category,
        checked.is_deleted,
        checked.has_group_override,
        checked.cohort_type_code,
        checked.cohort_identifier,
        checked.cohort_description,
        checked.cohort_scope_descriptor,
        checked.cohort_type_descriptor,
        checked.is_mapped,
        checked.is_school_year_configured,
        checked.cohort_identifier_length,
        checked.cohort_description_length,
        checked.is_identifier_empty,
        checked.is_identifier_too_long,
        checked.is_description_too_long,
        coalesce(identifier_counts.groups_with_identifier, 1) > 1 as is_duplicate_identifier,
        case when identifier_counts.groups_with_identifier > 1 then identifier_counts.group_ids end
            as duplicate_group_ids,
        case
            when checked.is_deleted then 'skipped_deleted'
            when not checked.is_mapped then 'skipped_unmapped'
            when not checked.is_school_year_configured then 'skipped_school_year'
            when checked.is_identifier_empty
                or checked.is_identifier_too_long
                or checked.is_description_too_long
                or coalesce(identifier_counts.groups_with_identifier, 1) > 1
                then 'error'
            else 'sent'
        end as outcome

    from checked
    left join identifier_counts
        on checked.school_year = identifier_counts.school_year
            and identifier_counts.identifier_key = lower(checked.cohort_identifier)
            and checked.is_in_scope
            and not checked.is_identifier_empty
            and not checked.is_identifier_too_long

)

select * from final
