"""Delivering the Cohorts to an Ed-Fi API: the real lightbeam and edfi_api_client against the API stand-in.

One story, each step ending with what the API holds compared with what the rules give for the current
product (written out by hand below):
1. first build and send;
2. a second build with a description and a category changed, a rename while one member is held in error,
   a deleted group, an unmapped group, a dropped school year, a group held in error and a newcomer on its
   name (the delete guard trips first: refused, refused with a wrong number, confirmed with the right one);
3. a build whose send is skipped, another build, one send;
4. a send cut half-way (the API goes away), then repeated;
5. records deleted in the API by someone else and an orphan created there, then resync and send;
6. the resource toggle: cohorts off withholds a delete; switched on, it goes;
and a repeated send that writes nothing.
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
    publish_render,
    read_jsonl,
    snapshot,
    state,
    user,
    write_product,
    write_xwalks,
)
from _edfi_api import EdFiApiStandIn
from _pipeline import run_pipeline

import edfi.plan as plan_mod
from edfi.plan import EdfiPlanError
from pipeline.delivery import resync, send

pytestmark = pytest.mark.slow

TS = "2024-08-19T14:55:31.004Z"
OTHER = "uri://ed-fi.org/CohortTypeDescriptor#Other"
SCOPE = "uri://ed-fi.org/CohortScopeDescriptor#"
C, A = "cohorts", "staffCohortAssociations"


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
RUN1_MEMBERS = [("u1", x, "learner", TS) for x in "abcdefg"] + [
    ("u2", "a", "observer", TS),
    ("u2", "i", "observer", TS),
    ("u3", "g", "learner", TS),
    ("u3", "c", "learner", TS),
]
RUN1_API = {
    2024: {C: [cohort("Foxtrot")], A: [assoc("Foxtrot", "S1")]},
    2025: {
        C: [cohort("Alpha", "first")]
        + [cohort(n) for n in ("Bravo", "Charlie", "Delta", "Echo", "Golf", "India")],
        A: [assoc(n, "S1") for n in ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Golf")]
        + [assoc("Alpha", "S2"), assoc("India", "S2"), assoc("Golf", "S3"), assoc("Charlie", "S3")],
    },
}

RUN2_GROUPS = [
    group("a", "Alpha", description="second"),  # description changed -> PUT
    group("b", "Bravo", category="District"),  # category changed -> PUT
    group("c", "Charlie Two"),  # renamed while its member u3 is held in error -> DELETE + POST
    group("d", "Delta", deleted=True),  # deleted -> DELETE
    group("e", "Echo"),  # unmapped by the crosswalk -> DELETE
    group("f", "Foxtrot", school_year=2024),  # 2024 no longer configured -> DELETE
    group("g", "Golf"),  # unchanged
    group("i", "India is now far too long"),  # error: held, nothing sent or deleted
    group("h", "Hotel"),  # new -> POST
    group("j", "india"),  # new, but i (held) still owns the name in Ed-Fi: error, held
]
RUN2_USERS = [user("u1", "S1"), user("u2", "S2"), user("u3", None)]  # u3 lost its staff id: held
RUN2_MEMBERS = [("u1", x, "learner", TS) for x in "abcdefghj"] + [
    ("u2", "g", "observer", TS),  # new member -> POST (u2 left a -> DELETE)
    ("u2", "i", "observer", TS),
    ("u3", "g", "learner", TS),
    ("u3", "c", "learner", TS),
]
RUN2_2025 = {
    C: [
        cohort("Alpha", "second"),
        cohort("Bravo", scope="District"),
        cohort("Charlie Two"),
        cohort("Golf"),
        cohort("Hotel"),
        cohort("India"),  # held: what the API accepted stays
    ],
    A: [assoc(n, "S1") for n in ("Alpha", "Bravo", "Charlie Two", "Golf", "Hotel")]
    # Golf/S3 held with its member; India/S2 held with its cohort; Charlie/S3 went with its cohort.
    + [assoc("Golf", "S2"), assoc("Golf", "S3"), assoc("India", "S2")],
}


def _key(d: dict) -> str:
    return json.dumps(d, sort_keys=True)


def holds(api: EdFiApiStandIn, expected: dict[int, dict[str, list[dict]]], years=(2024, 2025)) -> None:
    """The API holds exactly `expected` in every school year (order aside)."""
    for year in years:
        for resource in (C, A):
            got = sorted(map(_key, api.records(year, resource)))
            want = sorted(map(_key, expected.get(year, {}).get(resource, [])))
            assert got == want, f"{year} {resource}: API holds {got}, the rules give {want}"


def _build(tmp: Path, settings, groups, users, members, load_id: str, **overrides):
    write_product(tmp / "product", groups, users, memberships(members))
    write_xwalks(settings, **overrides)
    land_and_build(tmp, settings, custom_xwalks=True)
    return publish_render(settings, load_id)


@pytest.fixture(scope="module")
def api():
    with EdFiApiStandIn() as server:
        yield server


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory, api: EdFiApiStandIn):
    from _edfi import settings_for

    tmp = tmp_path_factory.mktemp("edfi_delivery")
    s = replace(
        settings_for(tmp, years=(2024, 2025)),
        api_url=api.base_url,
        verify_ssl=False,
        secrets={"EDFI_CLIENT_ID": api.client_id, "EDFI_CLIENT_SECRET": api.client_secret},
    )
    return tmp, s, tmp / "send.log"


def test_first_build_and_send(story, api: EdFiApiStandIn) -> None:
    tmp, s, log = story
    export = _build(tmp, s, RUN1_GROUPS, RUN1_USERS, RUN1_MEMBERS, "run-1")
    out = s.edfi_output
    assert export.summary["counts"][C]["POST"] == 8 and export.summary["counts"][A]["POST"] == 11
    assert sorted(p.name for p in (out / "2025").iterdir()) == [
        "cohorts.jsonl",
        "lightbeam.yaml",
        "staffCohortAssociations.jsonl",
    ]
    yaml_text = (out / "2025" / "lightbeam.yaml").read_text()
    assert "${EDFI_CLIENT_ID}" in yaml_text and api.client_secret not in yaml_text
    assert "year: 2025" in yaml_text and "verify_ssl: false" in yaml_text
    assert state(s)["accepted"] == [], "a build alone never claims anything was sent"

    assert send(s, log) == 0
    holds(api, RUN1_API)
    accepted = state(s)["accepted"]
    assert len(accepted) == 19
    # The output folder now holds what is still to send: nothing.
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == ["summary.json"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["lastSend"]["accepted"][C]["POST"] == 8 and summary["lastSend"]["failed"] == 0

    writes = api.write_count
    assert send(s, log) == 0, "a repeated send has nothing to do"
    assert api.write_count == writes


def test_second_build_guard_then_send(story, api: EdFiApiStandIn) -> None:
    tmp, s, log = story
    s2 = replace(s, school_years=(2025,))
    write_product(tmp / "product", RUN2_GROUPS, RUN2_USERS, memberships(RUN2_MEMBERS))
    write_xwalks(s2, overrides=[("group_id", "e", None)])
    land_and_build(tmp, s2, custom_xwalks=True)
    before = snapshot(s.edfi_output), state(s), s.warehouse.read_bytes()

    # 4 of 8 cohorts and 6 of 11 associations would go: the guard stops before anything is written.
    with pytest.raises(EdfiPlanError, match=r"DELETE 4 cohorts and 6 staffCohortAssociations") as exc:
        publish_render(s2, "run-2-unconfirmed")
    assert "EDFI_ALLOW_DELETES=10" in str(exc.value)
    with pytest.raises(EdfiPlanError, match=r"EDFI_ALLOW_DELETES=9 does not match the 10 deletes"):
        publish_render(replace(s2, allow_deletes=9), "run-2-wrong-number")
    assert (snapshot(s.edfi_output), state(s), s.warehouse.read_bytes()) == before

    # A render that fails half-way (the disk fills while writing the folder): nothing changes either.
    real_write = plan_mod.write_output

    def write_then_fail(*args, **kwargs):
        real_write(*args, **kwargs)
        raise OSError("No space left on device")

    plan_mod.write_output = write_then_fail
    try:
        with pytest.raises(OSError, match="No space left"):
            publish_render(replace(s2, allow_deletes=10), "run-2-disk-full")
    finally:
        plan_mod.write_output = real_write
    assert (snapshot(s.edfi_output), state(s), s.warehouse.read_bytes()) == before
    assert not list(s.edfi_output.parent.glob("edfi.tmp-*")) and not list(tmp.glob("*.next*"))

    export = publish_render(replace(s2, allow_deletes=10), "run-2")
    counts = export.summary["counts"]
    assert counts[C] == {"POST": 2, "PUT": 2, "DELETE": 4, "unchanged": 2}
    assert counts[A] == {"POST": 3, "PUT": 0, "DELETE": 6, "unchanged": 5}
    out = s.edfi_output
    deletes = {_key(d) for d in read_jsonl(out / "2025" / "deletes" / "staffCohortAssociations.jsonl")}
    assert _key(assoc("Charlie", "S3")) in deletes, "a held member goes with its renamed cohort"
    errors = {(e["code"], e.get("userId") is not None) for e in export.summary["errors"]}
    assert ("identifier_too_long", False) in errors and ("duplicate_identifier", False) in errors

    assert send(s2, log) == 0
    holds(api, {2025: RUN2_2025})
    assert api.records(2024, C) == [] and api.records(2024, A) == []


RUN3_GROUPS = [g for g in RUN2_GROUPS if g["name"] != "Hotel"] + [group("k", "Kilo", description="new in 3")]
RUN3_MEMBERS = [m for m in RUN2_MEMBERS if m[1] != "h"] + [("u1", "k", "learner", TS)]
RUN4_GROUPS = RUN3_GROUPS + [group("l", "Lima")]
RUN4_MEMBERS = RUN3_MEMBERS + [("u1", "l", "learner", TS), ("u2", "l", "observer", TS)]
RUN4_2025 = {
    C: [c for c in RUN2_2025[C] if c["cohortIdentifier"] != "Hotel"]
    + [cohort("Kilo", "new in 3"), cohort("Lima")],
    A: [a for a in RUN2_2025[A] if a["cohortReference"]["cohortIdentifier"] != "Hotel"]
    + [assoc("Kilo", "S1"), assoc("Lima", "S1"), assoc("Lima", "S2")],
}


def test_a_skipped_send_is_not_lost(story, api: EdFiApiStandIn) -> None:
    tmp, s, log = story
    s2 = replace(s, school_years=(2025,))
    overrides = {"overrides": [("group_id", "e", None)]}
    # Build 3 (Hotel deleted, Kilo new) is never sent; build 4 adds Lima; one send delivers both.
    _build(tmp, replace(s2, allow_deletes=2), RUN3_GROUPS, RUN2_USERS, RUN3_MEMBERS, "run-3", **overrides)
    export = _build(
        tmp, replace(s2, allow_deletes=2), RUN4_GROUPS, RUN2_USERS, RUN4_MEMBERS, "run-4", **overrides
    )
    assert export.summary["counts"][C]["DELETE"] == 1, "build 4 still plans build 3's unsent delete"
    assert export.summary["counts"][C]["POST"] == 2
    assert send(s2, log) == 0
    holds(api, {2025: RUN4_2025})


def test_a_send_cut_half_way_converges(story, api: EdFiApiStandIn) -> None:
    tmp, s, log = story
    s2 = replace(s, school_years=(2025,))
    groups = [replace_name(g, "Kilo", "Kilo Two") for g in RUN4_GROUPS]
    export = _build(
        tmp,
        replace(s2, allow_deletes=2),
        groups,
        RUN2_USERS,
        RUN4_MEMBERS,
        "run-5",
        overrides=[("group_id", "e", None)],
    )
    assert (
        sum(export.summary["counts"][r]["DELETE"] + export.summary["counts"][r]["POST"] for r in (C, A)) == 4
    )
    api.fail_after_writes(2)  # the association DELETE and the cohort DELETE get through, then the API is gone
    try:
        assert send(s2, log) == 1
    finally:
        api.heal()
    summary = json.loads((s.edfi_output / "summary.json").read_text())
    assert summary["lastSend"]["stopped"] and summary["counts"][C]["POST"] == 1, "the POSTs stay to send"
    assert api.records(2025, C) and all(c["cohortIdentifier"] != "Kilo" for c in api.records(2025, C))
    assert send(s2, log) == 0
    want = {
        C: [c for c in RUN4_2025[C] if c["cohortIdentifier"] != "Kilo"] + [cohort("Kilo Two", "new in 3")],
        A: [a for a in RUN4_2025[A] if a["cohortReference"]["cohortIdentifier"] != "Kilo"]
        + [assoc("Kilo Two", "S1")],
    }
    holds(api, {2025: want})
    writes = api.write_count
    assert send(s2, log) == 0
    assert api.write_count == writes, "a repeated send writes nothing"


def replace_name(g: dict, old: str, new: str) -> dict:
    return g | {"name": new} if g["name"] == old else g


def test_resync_restores_and_cleans_up(story, api: EdFiApiStandIn) -> None:
    tmp, s, log = story
    s2 = replace(s, school_years=(2025,))
    golf_s2 = api.find_id(2025, A, assoc("Golf", "S2"))
    api.delete_as_someone_else(2025, A, golf_s2)
    api.seed(2025, C, cohort("Zulu"))  # no group wants it, but this pipeline could have made it
    api.seed(2025, A, assoc("Zulu", "S1"))
    foreign = cohort("Academic") | {
        "cohortTypeDescriptor": "uri://ed-fi.org/CohortTypeDescriptor#Academic Intervention"
    }
    api.seed(2025, C, foreign)
    expected_before = {c["cohortIdentifier"] for c in api.records(2025, C)}

    assert send(s2, log) == 0, "before a resync the state still believes Golf/S2 is there"
    assert api.find_id(2025, A, assoc("Golf", "S2")) is None

    assert resync(replace(s2, allow_deletes=2)) == 0
    summary = json.loads((s.edfi_output / "summary.json").read_text())
    # 17 accepted (7 cohorts, 10 associations): Golf/S2 is gone, the rest confirmed; Zulu and its member
    # are orphans this pipeline could have made; the Academic Intervention cohort is not ours.
    assert summary["lastResync"] == {"kept": 16, "dropped": 1, "adopted": 0, "orphans": 2}
    assert summary["counts"][A]["POST"] == 1 and summary["counts"][C]["DELETE"] == 1
    assert send(replace(s2, allow_deletes=2), log) == 0
    cohorts_now = {c["cohortIdentifier"] for c in api.records(2025, C)}
    assert cohorts_now == expected_before - {"Zulu"}, "the orphan went, another type's cohort stayed"
    assert api.find_id(2025, A, assoc("Golf", "S2")) is not None
    assert api.find_id(2025, A, assoc("Zulu", "S1")) is None


def test_resource_toggle_withholds_then_releases(story, api: EdFiApiStandIn) -> None:
    tmp, s, log = story
    off = replace(s, school_years=(2025,), resources=("staffCohortAssociations",))
    groups = [g | {"deleted": "true", "deletedAt": TS} if g["name"] == "Lima" else g for g in RUN4_GROUPS]
    groups = [replace_name(g, "Kilo", "Kilo Two") for g in groups]
    export = _build(
        tmp,
        replace(off, allow_deletes=3),
        groups,
        RUN2_USERS,
        RUN4_MEMBERS,
        "run-6",
        overrides=[("group_id", "e", None)],
    )
    assert export.summary["withheld"][C]["DELETE"] == 1 and export.summary["withheld"][A]["DELETE"] == 2
    assert export.summary["files"] == {}, "cohorts off: nothing is written to send"
    writes = api.write_count
    assert send(off, log) == 0
    assert api.write_count == writes and api.find_id(2025, C, cohort("Lima")) is not None
    on = replace(off, resources=("cohorts", "staffCohortAssociations"), allow_deletes=3)
    assert send(on, log) == 0
    assert api.find_id(2025, C, cohort("Lima")) is None


def test_a_refused_record_stays_to_send_with_the_api_message(story, api: EdFiApiStandIn) -> None:
    """Someone deleted a cohort (and its associations) in the API; a new member of it is refused (409).
    The refusal and the API's message land in summary.json, the send exits non-zero, the record stays
    to send; a resync finds the cohort gone, and the next send re-creates it with both members."""
    tmp, s, log = story
    s2 = replace(s, school_years=(2025,))
    for body in (assoc("Kilo Two", "S1"), cohort("Kilo Two", "new in 3")):
        resource = C if "cohortIdentifier" in body else A
        api.delete_as_someone_else(2025, resource, api.find_id(2025, resource, body))
    groups = [g for g in RUN4_GROUPS if g["name"] != "Lima"]
    groups = [replace_name(g, "Kilo", "Kilo Two") for g in groups]
    members = [m for m in RUN4_MEMBERS if m[1] != "l"] + [("u2", "k", "observer", TS)]
    _build(tmp, s2, groups, RUN2_USERS, members, "run-7", overrides=[("group_id", "e", None)])

    assert send(s2, log) == 1
    summary = json.loads((s.edfi_output / "summary.json").read_text())
    (failure,) = summary["lastSend"]["failures"]
    assert failure["status"] == 409 and "cohort" in failure["message"] and failure["action"] == "POST"
    assert failure["payload"] == assoc("Kilo Two", "S2")
    assert summary["counts"][A]["POST"] == 1, "the refused association stays to send"

    assert resync(s2) == 0
    assert send(s2, log) == 0
    assert api.find_id(2025, C, cohort("Kilo Two", "new in 3")) is not None
    assert api.find_id(2025, A, assoc("Kilo Two", "S1")) and api.find_id(2025, A, assoc("Kilo Two", "S2"))


def test_make_send_from_the_command_line(story, api: EdFiApiStandIn) -> None:
    """`make send` runs `python -m pipeline send`: the settings come from the environment, the secret
    never reaches the terminal or the log, and a send with nothing left writes nothing."""
    import os

    tmp, s, log = story
    env = {
        **os.environ,
        "WAREHOUSE": str(s.warehouse),
        "EDFI_OUTPUT": str(s.edfi_output),
        "DATA_PRODUCT": str(tmp / "product"),
        "EDFI_DISTRICT_ID": str(DISTRICT),
        "EDFI_SCHOOL_YEARS": "2025",
        "EDFI_API_URL": api.base_url,
        "EDFI_CLIENT_ID": api.client_id,
        "EDFI_CLIENT_SECRET": api.client_secret,
        "EDFI_VERIFY_SSL": "false",
        "LOG_FILE": str(tmp / "cli.log"),
    }
    writes = api.write_count
    proc = run_pipeline("send", env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "nothing to send" in proc.stderr and api.write_count == writes
    assert api.client_secret not in proc.stderr + proc.stdout
    no_url = {k: v for k, v in env.items() if k != "EDFI_API_URL"}
    proc = run_pipeline("send", env=no_url, timeout=300)
    assert proc.returncode != 0 and "EDFI_API_URL" in proc.stderr and "Traceback" not in proc.stderr
