"""The delivery plan on its own: keys as the ODS compares them, cascades, the resource toggle, the guard."""

from __future__ import annotations

import pytest

from edfi.plan import ASSOCIATIONS, COHORTS, DeleteGuard, EdfiPlanError, Record, plan_changes

D = 3100042


def cohort(group: str, name: str, district: int = D, year: int = 2025, **extra: str) -> Record:
    body = {
        "cohortIdentifier": name,
        "educationOrganizationReference": {"educationOrganizationId": district},
        "cohortTypeDescriptor": "uri://ed-fi.org/CohortTypeDescriptor#Other",
        **extra,
    }
    return Record(COHORTS, year, group, "", body)


def member(group: str, user: str, name: str, staff: str, district: int = D) -> Record:
    body = {
        "beginDate": "2024-08-19",
        "cohortReference": {"cohortIdentifier": name, "educationOrganizationId": district},
        "staffReference": {"staffUniqueId": staff},
    }
    return Record(ASSOCIATIONS, 2025, group, user, body)


def summary(plan) -> set[tuple[str, str, str, str]]:
    return {(a.action, a.change, a.record.group_id, a.record.user_id) for a in plan.actions}


def test_a_change_of_case_only_is_an_update_not_a_new_key() -> None:
    accepted = [cohort("g", "Math"), member("g", "u", "Math", "s-1")]
    desired = [cohort("g", "MATH"), member("g", "u", "MATH", "S-1")]
    plan = plan_changes(desired, accepted)
    assert summary(plan) == {("PUT", "changed", "g", ""), ("PUT", "changed", "g", "u")}
    assert plan.deletes() == {COHORTS: 0, ASSOCIATIONS: 0}


def test_two_records_equal_but_for_case_are_one_record() -> None:
    with pytest.raises(EdfiPlanError, match="share the natural key"):
        plan_changes([cohort("a", "Math"), cohort("b", "math")], [])


def test_a_cohort_that_goes_takes_every_association_along() -> None:
    accepted = [cohort("g", "Old"), member("g", "u1", "Old", "S1"), member("g", "u2", "Old", "S2")]
    # u2 is held in error: the build keeps its accepted record in `desired`, under the old name
    desired = [cohort("g", "New"), member("g", "u1", "New", "S1"), member("g", "u2", "Old", "S2")]
    plan = plan_changes(desired, accepted)
    assert ("DELETE", "key_changed", "g", "u2") in summary(plan), "the held association goes with its cohort"
    assert ("DELETE", "key_changed", "g", "") in summary(plan)
    assert plan.deletes() == {COHORTS: 1, ASSOCIATIONS: 2}


def test_unchanged_records_plan_nothing() -> None:
    records = [cohort("g", "Math", cohortDescription="d"), member("g", "u", "Math", "S1")]
    plan = plan_changes(records, records)
    assert plan.actions == [] and plan.unchanged == {COHORTS: 1, ASSOCIATIONS: 1}


def test_resource_toggle_cohorts_off_withholds_everything() -> None:
    accepted = [cohort("g", "Gone"), member("g", "u", "Gone", "S1")]
    desired = [cohort("h", "New"), member("h", "u", "New", "S1")]
    plan = plan_changes(desired, accepted, resources=("staffCohortAssociations",))
    assert plan.actions == [] and len(plan.withheld) == 4


def test_resource_toggle_associations_off_keeps_cohorts_they_hold() -> None:
    accepted = [cohort("g", "Gone"), member("g", "u", "Gone", "S1"), cohort("k", "Empty")]
    desired = [cohort("h", "New")]
    plan = plan_changes(desired, accepted, resources=("cohorts",))
    assert summary(plan) == {("POST", "new", "h", ""), ("DELETE", "removed", "k", "")}
    withheld = {(a.action, a.record.group_id, a.record.user_id) for a in plan.withheld}
    assert withheld == {("DELETE", "g", "u"), ("DELETE", "g", "")}, "the API would refuse that cohort DELETE"


def _accepted(n: int, district: int = D) -> list[Record]:
    return [cohort(f"g{i}", f"C{i}", district) for i in range(n)]


def test_the_guard_lets_small_deletes_through() -> None:
    accepted = _accepted(20)
    plan = plan_changes(accepted[:-2], accepted)  # 2 of 20 = 10 %: not more than the threshold
    assert DeleteGuard(0.10, None, D).check(plan, accepted) == 0


def test_the_guard_stops_mass_deletes_until_the_number_is_confirmed() -> None:
    accepted = _accepted(20)
    plan = plan_changes(accepted[:-3], accepted)
    with pytest.raises(
        EdfiPlanError, match=r"(?s)DELETE 3 cohorts .*3 of the 20 cohorts.*EDFI_ALLOW_DELETES=3"
    ) as e:
        DeleteGuard(0.10, None, D, ["users: 10 rows against 100"]).check(plan, accepted)
    assert "users: 10 rows against 100" in str(e.value), "sharp volume drops are named"
    with pytest.raises(EdfiPlanError, match="EDFI_ALLOW_DELETES=4 does not match the 3 deletes"):
        DeleteGuard(0.10, 4, D).check(plan, accepted)
    assert DeleteGuard(0.10, 3, D).check(plan, accepted) == 3


def test_the_guard_stops_a_change_of_district() -> None:
    accepted = _accepted(20)
    desired = _accepted(20, district=D + 1)
    plan = plan_changes(desired, accepted)
    with pytest.raises(EdfiPlanError, match=rf"EDFI_DISTRICT_ID changed: .*{D}, this run is for {D + 1}"):
        DeleteGuard(1.0, None, D + 1).check(plan, accepted)


def test_sharp_volume_drops_of_what_the_export_reads_are_named() -> None:
    import datetime as dt

    import duckdb

    from edfi.render import _volume_drops

    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute(
        "create table raw._loads "
        "(load_id varchar, table_name varchar, rows_landed bigint, loaded_at timestamp)"
    )
    day = dt.datetime(2026, 1, 1)
    rows = [("old", "groups", 100), ("old", "users", 60), ("old", "users.groups", 400), ("old", "goals", 9)]
    rows += [("new", "groups", 98), ("new", "users", 60), ("new", "users.groups", 174), ("new", "goals", 1)]
    for load_id, table, n in rows:
        at = day if load_id == "old" else day + dt.timedelta(days=7)
        con.execute("insert into raw._loads values (?, ?, ?, ?)", [load_id, table, n, at])
    assert _volume_drops(con) == [
        "users.groups: 174 rows against 400 in the previous delivery (-56%): is the delivery complete?"
    ]


def test_strict_turns_warnings_into_a_stop() -> None:
    from pipeline.build import PipelineError, RunSummary

    relaxed = RunSummary(load_id="x")
    relaxed.warn("a cohort sent without a scope")  # not strict: listed, the run goes on
    assert relaxed.warnings == ["a cohort sent without a scope"]
    strict = RunSummary(load_id="y", strict=True)
    with pytest.raises(PipelineError, match=r"STRICT=1 makes every warning an error") as stopped:
        strict.warn("a cohort sent without a scope")
    assert "a cohort sent without a scope" in str(stopped.value), "the message names the warning"
