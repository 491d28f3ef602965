"""Change tracking between runs: the identity-mapping state, the actions it triggers, failed runs.

Run 1 POSTs everything. Run 2 changes a description and a category (PUT), renames a group (DELETE+POST),
deletes one, unmaps one, drops a school year (DELETE, associations first), adds and removes members, and
puts a sent group and a sent member in error (held: nothing sent, nothing deleted), and a new group tries
to take the held group's name (refused). Failed attempts of run 2 (render raising, validation failing
before the commit, the commit itself failing) change nothing. Run 3 with the same input emits nothing.
Two dbt builds in all.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from _edfi import (
    DISTRICT,
    group,
    land_and_build,
    memberships,
    oid,
    read_jsonl,
    rows,
    settings_for,
    snapshot,
    state,
    user,
    write_product,
    write_xwalks,
)

import extract.edfi_export as edfi_export
from extract.edfi_export import commit_state, render

pytestmark = pytest.mark.slow

TS = "2024-08-19T14:55:31.004Z"
OTHER = "uri://ed-fi.org/CohortTypeDescriptor#Other"
SCOPE = "uri://ed-fi.org/CohortScopeDescriptor#"


def cohort(name: str, description: str | None = "d", scope: str | None = "School") -> dict:
    out = {
        "cohortIdentifier": name,
        "educationOrganizationReference": {"educationOrganizationId": DISTRICT},
        "cohortTypeDescriptor": OTHER,
    }
    if description:
        out["cohortDescription"] = description
    if scope:
        out["cohortScopeDescriptor"] = SCOPE + scope
    return out


def assoc(name: str, staff: str, begin: str = "2024-08-19") -> dict:
    return {
        "beginDate": begin,
        "cohortReference": {"cohortIdentifier": name, "educationOrganizationId": DISTRICT},
        "staffReference": {"staffUniqueId": staff},
    }


RUN1_GROUPS = [
    group("a", "Alpha", description="first"),
    group("b", "Bravo"),
    group("c", "Charlie"),
    group("d", "Delta"),
    group("e", "Echo"),
    group("f", "Foxtrot", school_year=2024),
    group("g", "Golf"),
    group("i", "India"),
]
RUN1_USERS = [user("u1", "S1"), user("u2", "S2"), user("u3", "S3")]
RUN1_MEMBERS = [(("u1", x, "learner", TS)) for x in "abcdefg"] + [
    ("u2", "a", "observer", TS),
    ("u2", "i", "observer", TS),
    ("u3", "g", "learner", TS),
]

RUN2_GROUPS = [
    group("a", "Alpha", description="second"),  # description changed -> PUT
    group("b", "Bravo", category="District"),  # category changed -> PUT
    group("c", "Charlie Two"),  # renamed -> DELETE + POST
    group("d", "Delta", deleted=True),  # deleted -> DELETE
    group("e", "Echo"),  # unmapped by the crosswalk -> DELETE
    group("f", "Foxtrot", school_year=2024),  # 2024 no longer configured -> DELETE
    group("g", "Golf"),  # unchanged
    group("i", "India is now far too long"),  # error: held, nothing sent or deleted
    group("h", "Hotel"),  # new -> POST
    group("j", "india"),  # new, but i (held) still owns the name in Ed-Fi: error, held
]
RUN2_USERS = [user("u1", "S1"), user("u2", "S2"), user("u3", None)]  # u3 lost its staff id: held
RUN2_MEMBERS = [(("u1", x, "learner", TS)) for x in "abcdefghj"] + [
    ("u2", "g", "observer", TS),  # new member -> POST (u2 left a -> DELETE)
    ("u2", "i", "observer", TS),
    ("u3", "g", "learner", TS),
]


def _lines(out: Path, rel: str) -> list[dict]:
    path = out / rel
    return read_jsonl(path) if path.exists() else []


def _key(d: dict) -> str:
    return json.dumps(d, sort_keys=True)


def _same(got: list[dict], want: list[dict]) -> bool:
    return sorted(map(_key, got)) == sorted(map(_key, want))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("edfi_changes")
    return tmp, settings_for(tmp, years=(2024, 2025))


def test_runs_emit_exactly_the_expected_actions(scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    tmp, s1 = scenario
    out = s1.edfi_output

    # ---------- run 1: everything is new
    write_product(tmp / "product", RUN1_GROUPS, RUN1_USERS, memberships(RUN1_MEMBERS))
    write_xwalks(s1)
    land_and_build(tmp, s1, custom_xwalks=True)
    first = render(s1, load_id="run-1")
    staged = snapshot(first.staging_dir)
    again = render(s1, load_id="run-1-again")  # identical input renders identical bytes
    assert snapshot(again.staging_dir) == staged
    assert not first.staging_dir.exists(), "a stale staging folder of an unpublished render is cleaned up"
    assert not out.exists(), "render publishes nothing"
    commit_state(s1, again)
    assert snapshot(out) == staged
    assert again.summary["counts"]["cohorts"] == {"POST": 8, "PUT": 0, "DELETE": 0, "unchanged": 0}
    assert again.summary["counts"]["staffCohortAssociations"] == {
        "POST": 10,
        "PUT": 0,
        "DELETE": 0,
        "unchanged": 0,
    }
    assert _same(_lines(out, "2024/cohorts.jsonl"), [cohort("Foxtrot")])
    assert _same(
        _lines(out, "2025/cohorts.jsonl"),
        [cohort("Alpha", "first")]
        + [cohort(n) for n in ("Bravo", "Charlie", "Delta", "Echo", "Golf", "India")],
    )
    assert len(_lines(out, "2025/staffCohortAssociations.jsonl")) == 9
    assert sorted(p.name for p in (out / "2025").iterdir()) == [
        "cohorts.jsonl",
        "staffCohortAssociations.jsonl",
    ]
    run1_output, run1_state = snapshot(out), state(s1)
    assert len(run1_state["cohort_identity"]) == 8
    assert len(run1_state["staff_cohort_association_identity"]) == 10

    # ---------- run 2 input: the changes, 2024 dropped, Echo unmapped by the district
    s2 = replace(s1, school_years=(2025,))
    write_product(tmp / "product", RUN2_GROUPS, RUN2_USERS, memberships(RUN2_MEMBERS))
    write_xwalks(s2, overrides=[("group_id", "e", None)])
    land_and_build(tmp, s2, custom_xwalks=True)

    # A render that fails half-way: nothing published, nothing left behind, state unchanged.
    real_write = edfi_export._write_files

    def write_then_fail(*args, **kwargs):
        real_write(*args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(edfi_export, "_write_files", write_then_fail)
    with pytest.raises(OSError, match="disk full"):
        render(s2, load_id="run-2-render-fails")
    monkeypatch.undo()
    assert not list(out.parent.glob("edfi.tmp-*"))
    assert snapshot(out) == run1_output and state(s1) == run1_state

    # Rendered, then the export validation fails: commit_state is never called.
    render(s2, load_id="run-2-validation-fails")
    assert snapshot(out) == run1_output and state(s1) == run1_state

    # The commit itself fails after writing part of the state: rolled back, old output kept.
    export = render(s2, load_id="run-2-commit-fails")
    real_state = edfi_export._write_state

    def state_then_fail(con, *args, **kwargs):
        real_state(con, *args, **kwargs)
        raise RuntimeError("crash while committing")

    monkeypatch.setattr(edfi_export, "_write_state", state_then_fail)
    with pytest.raises(RuntimeError, match="crash while committing"):
        commit_state(s2, export)
    monkeypatch.undo()
    assert snapshot(out) == run1_output and state(s1) == run1_state

    # ---------- run 2 for real
    export = render(s2, load_id="run-2")
    commit_state(s2, export)
    counts = export.summary["counts"]
    assert counts["cohorts"] == {"POST": 2, "PUT": 2, "DELETE": 4, "unchanged": 1}
    assert counts["staffCohortAssociations"] == {"POST": 3, "PUT": 0, "DELETE": 5, "unchanged": 3}
    assert _same(
        _lines(out, "2025/cohorts.jsonl"),
        [
            cohort("Alpha", "second"),
            cohort("Bravo", scope="District"),
            cohort("Charlie Two"),
            cohort("Hotel"),
        ],
    )
    assert _same(
        _lines(out, "2025/cohorts.deletes.jsonl"), [cohort("Charlie"), cohort("Delta"), cohort("Echo")]
    )
    assert _same(_lines(out, "2024/cohorts.deletes.jsonl"), [cohort("Foxtrot")])
    assert _same(
        _lines(out, "2025/staffCohortAssociations.jsonl"),
        [assoc("Charlie Two", "S1"), assoc("Golf", "S2"), assoc("Hotel", "S1")],
    )
    assert _same(
        _lines(out, "2025/staffCohortAssociations.deletes.jsonl"),
        [assoc("Charlie", "S1"), assoc("Delta", "S1"), assoc("Echo", "S1"), assoc("Alpha", "S2")],
    )
    assert _same(_lines(out, "2024/staffCohortAssociations.deletes.jsonl"), [assoc("Foxtrot", "S1")])
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == [
        "2024/cohorts.deletes.jsonl",
        "2024/staffCohortAssociations.deletes.jsonl",
        "2025/cohorts.deletes.jsonl",
        "2025/cohorts.jsonl",
        "2025/staffCohortAssociations.deletes.jsonl",
        "2025/staffCohortAssociations.jsonl",
        "summary.json",
    ]
    assert export.summary["applyOrder"][:2] == [
        "staffCohortAssociations.deletes.jsonl",
        "cohorts.deletes.jsonl",
    ]
    errors = {(e["code"], e["groupId"], e.get("userId")) for e in export.summary["errors"]}
    assert errors == {
        ("identifier_too_long", oid("i"), None),
        ("missing_staff_unique_id", oid("g"), oid("u3")),
        ("duplicate_identifier", oid("j"), None),
    }
    assert export.summary["groups"]["error"] == 2 and export.summary["groups"]["sent"] == 5
    assert export.summary["memberships"]["skipped_cohort_not_sent"] == 5  # d, e, f, i (error), j (held name)
    # The pending table the export validation reads holds exactly the actions.
    pending = rows(s2, "select resource, action, count(*) as n from edfi_state.pending_payloads group by all")
    assert {(r["resource"], r["action"], r["n"]) for r in pending} == {
        ("cohorts", "POST", 2),
        ("cohorts", "PUT", 2),
        ("cohorts", "DELETE", 4),
        ("staffCohortAssociations", "POST", 3),
        ("staffCohortAssociations", "DELETE", 5),
    }
    # State: what is in the ODS now, including what is held because of an error.
    now = state(s2)
    cohorts_now = {(r[0], r[1], r[2]) for r in now["cohort_identity"]}
    assert cohorts_now == {
        (2025, oid("a"), "Alpha"),
        (2025, oid("b"), "Bravo"),
        (2025, oid("c"), "Charlie Two"),
        (2025, oid("g"), "Golf"),
        (2025, oid("h"), "Hotel"),
        (2025, oid("i"), "India"),  # held: the last sent name
    }
    members_now = {(r[1], r[2], r[3], r[4]) for r in now["staff_cohort_association_identity"]}
    assert members_now == {
        (oid("a"), oid("u1"), "Alpha", "S1"),
        (oid("b"), oid("u1"), "Bravo", "S1"),
        (oid("c"), oid("u1"), "Charlie Two", "S1"),
        (oid("g"), oid("u1"), "Golf", "S1"),
        (oid("g"), oid("u2"), "Golf", "S2"),
        (oid("g"), oid("u3"), "Golf", "S3"),  # held
        (oid("h"), oid("u1"), "Hotel", "S1"),
        (oid("i"), oid("u2"), "India", "S2"),  # held with its cohort
    }
    assert not list(out.parent.glob("edfi.*-*")), "no staging or backup folder left behind"

    # ---------- run 3: nothing changed, nothing to send; run 4 writes the same bytes
    third = render(s2, load_id="run-3")
    commit_state(s2, third)
    assert third.actions == []
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["summary.json"]
    assert third.summary["counts"]["cohorts"] == {"POST": 0, "PUT": 0, "DELETE": 0, "unchanged": 5}
    run3_output = snapshot(out)
    fourth = render(s2, load_id="run-4")
    commit_state(s2, fourth)
    assert snapshot(out) == run3_output
    # last_load_id stays that of the run that last sent each record (held India: run 1).
    assert {r[7] for r in state(s2)["cohort_identity"]} == {"run-1-again", "run-2"}
    with pytest.raises(edfi_export.EdfiExportError, match="already published"):
        commit_state(s2, fourth)
