{#-
    One row per SLO (student learning objective) with its target roll-up. "Target met" is recorded per measure
    (`slos.answers.assessments.measures.metTarget`, empty until scored); the SLO rolls it up:
    - `not met`: some scored measure missed its target;
    - `met`: the SLO has measures, every one is scored, and every one met its target;
    - `not scored`: otherwise (no measures, or some still unscored and none missed).
    The platform's own `final_rating` (a label set when the SLO is scored) is kept beside it.
-#}

with

slos as (

    select * from {{ ref('stg_edreflect__slos') }}

),

assessments as (

    select * from {{ ref('stg_edreflect__slos__answers__assessments') }}

),

measures as (

    select * from {{ ref('stg_edreflect__slos__answers__assessments__measures') }}

),

assessment_counts as (

    select
        root_id as slo_id,
        count(*) as assessment_count

    from assessments
    group by root_id

),

measure_counts as (

    select
        root_id as slo_id,
        count(*) as measure_count,
        count(is_met_target) as scored_measure_count,
        count(case when is_met_target then 1 end) as met_measure_count,
        count(case when not is_met_target then 1 end) as not_met_measure_count

    from measures
    group by root_id

),

final as (

    select
        ---------- ids
        slos.slo_id,
        slos.org_id,
        slos.school_year,
        slos.owner_id,
        slos.approver_id,
        slos.slo_template_id,

        ---------- properties
        {{ display_text('slos.title') }} as title,
        slos.status,
        case
            when coalesce(measure_counts.not_met_measure_count, 0) > 0 then 'not met'
            when measure_counts.measure_count > 0
                and measure_counts.met_measure_count = measure_counts.measure_count then 'met'
            else 'not scored'
        end as target_status,
        coalesce(assessment_counts.assessment_count, 0) as assessment_count,
        coalesce(measure_counts.measure_count, 0) as measure_count,
        coalesce(measure_counts.scored_measure_count, 0) as scored_measure_count,
        coalesce(measure_counts.met_measure_count, 0) as met_measure_count,
        coalesce(measure_counts.not_met_measure_count, 0) as not_met_measure_count,
        slos.final_score,
        slos.final_rating,

        ---------- dates
        {{ local_date('slos.approved_at') }} as approved_date,
        {{ local_date('slos.created_at') }} as created_date,

        ---------- timestamps
        slos.approved_at,
        slos.created_at,

        ---------- soft delete
        slos.is_deleted

    from slos
    left join assessment_counts
        on slos.slo_id = assessment_counts.slo_id
    left join measure_counts
        on slos.slo_id = measure_counts.slo_id

)

select * from final
