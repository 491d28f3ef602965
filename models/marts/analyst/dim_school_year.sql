{#-
    One row per school year from the earliest year any document carries through the current one (no gaps).
    A school year is named by the calendar year it ends in (2025 = `2024-25`) and runs 1 July - 30 June (the
    Ed-Fi and Nebraska convention). `is_current`: today, in the district's time zone, falls in it.
-#}

with

years_in_data as (

    select school_year from {{ ref('stg_edreflect__observations') }}
    union all
    select school_year from {{ ref('stg_edreflect__groups') }}
    union all
    select school_year from {{ ref('stg_edreflect__goals') }}
    union all
    select school_year from {{ ref('stg_edreflect__slos') }}
    union all
    select school_year from {{ ref('stg_edreflect__eoy_classifications') }}

),

today as (

    select {{ local_date(dbt.current_timestamp()) }} as local_today

),

current_year as (

    select
        cast(extract(year from local_today) as {{ dbt.type_bigint() }})
        + case when extract(month from local_today) >= 7 then 1 else 0 end as school_year

    from today

),

bounds as (

    select
        coalesce(min(years_in_data.school_year), max(current_year.school_year)) as first_year,
        max(current_year.school_year) as current_school_year,
        max(years_in_data.school_year) as latest_year_in_data

    from current_year
    left join years_in_data
        on 1 = 1

),

offsets as (

    {{ integers_below_power_of_ten(2) }}

),

years as (

    select
        bounds.first_year + offsets.n as school_year,
        bounds.current_school_year,
        bounds.latest_year_in_data

    from bounds
    inner join offsets
        on bounds.first_year + offsets.n
            <= greatest(bounds.current_school_year, coalesce(bounds.latest_year_in_data, bounds.current_school_year))

),

final as (

    select
        ---------- ids
        cast(school_year as {{ dbt.type_bigint() }}) as school_year,

        ---------- properties
        {{ school_year_label('school_year') }} as school_year_label,

        ---------- dates
        {{ school_year_date('school_year', '07-01') }} as start_date,
        {{ school_year_date('school_year', '06-30', in_end_year=true) }} as end_date,

        ---------- flags
        school_year = current_school_year as is_current,
        school_year = latest_year_in_data as is_latest_with_data,
        school_year in (select years_in_data.school_year from years_in_data) as has_data

    from years

)

select * from final
