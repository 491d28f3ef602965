"""The Ed-Fi Cohort rules of COHORT_RULES.md, one hand-written group per rule, through real dbt + DuckDB.

One product holds every rule case (a dbt build costs seconds); each test reads a different part of the
rendered export. The example product is checked separately with the shipped crosswalk seeds.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from _edfi import (
    DISTRICT,
    group,
    land_and_build,
    memberships,
    oid,
    publish_render,
    read_jsonl,
    rebuild_models,
    rows,
    settings_for,
    shared_schema,
    user,
    write_product,
    write_xwalks,
)
from jsonschema import Draft202012Validator, FormatChecker

from edfi.render import EdfiExportError, load_schema, render
from pipeline.dbt import DbtError

pytestmark = pytest.mark.slow

OTHER = "uri://ed-fi.org/CohortTypeDescriptor#Other"
SCOPE = "uri://ed-fi.org/CohortScopeDescriptor#"
EDORG = {"educationOrganizationId": DISTRICT}
LONG_OK = "x" * 1024
LONG_BAD = "y" * 1025
SCOPE_CATEGORIES = {
    "s1": (" classroom ", "Classroom"),
    "s2": ("COUNSELOR", "Counselor"),
    "s3": ("District", "District"),
    "s4": ("network", "Network"),
    "s5": ("OTHER ", "Other"),
    "s6": ("Principal", "Principal"),
    "s7": ("school", "School"),
    "s8": ("StateWide", "Statewide"),
    "s9": ("\tteacher", "Teacher"),
}

GROUPS = [
    group("g01", "Twenty chars exactly", description="  Padded description  ", category="School"),
    group("g02", "Twenty-one characters"),
    group("g03", "   Padded Name   ", description="", category=""),
    group("g04", "No description", description=None, category="PLC"),
    group("g05", "Deleted group", deleted=True),
    group("g06", "Report group", type="report"),
    group("g07", "Old year group", school_year=2023),
    group("g08", "Last year group", school_year=2024, category=None),
    group("g09", "Long ok", description=LONG_OK),
    group("g10", "Long too", description=LONG_BAD),
    group("g11", "Dup Team"),
    group("g12", "dup team ", type="observer"),
    group("g13", "Shared", school_year=2024),
    group("g14", "Shared", school_year=2025),
    group("g15", "Unmapped one"),
    group("g16", "Mapped report", type="report"),
    group("g17", "Thirty-six characters is the limit!!"),
    group("g18", "Thirty-seven characters is too long!!"),
    group("g19", "A deleted group with a long name", deleted=True),
    *(group(label, f"Scope {label}", category=cat) for label, (cat, _) in SCOPE_CATEGORIES.items()),
]
USERS = [
    user("u1", "S1"),
    user("u2", None),
    user("u3", "S3", deleted=True),
    user("u4", "S4"),
    user("u5", "S5"),
    user("u6", " S6 "),
]
MEMBERS = memberships(
    [
        ("u1", "g01", "learner", "2024-08-20T23:30:00.000Z"),
        ("u2", "g01", "learner", "2024-08-19T14:55:31.004Z"),
        ("u3", "g01", "observer", "2024-08-19T14:55:31.004Z"),
        ("u4", "g01", "learner", None),
        ("u4", "g08", "observer", None),
        ("u1", "g02", "learner", "2024-08-19T14:55:31.004Z"),
        ("u5", "g01", "observer", "2024-09-01T00:00:00.000Z"),
        ("u5", "g01", "learner", "2024-08-25T10:00:00.000Z"),
        ("u6", "g03", "observer", "2024-08-19T14:55:31.004Z"),
        ("u2", "g05", "learner", "2024-08-19T14:55:31.004Z"),
    ]
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    """The rule product landed, built with real dbt (crosswalk overrides g15 off, g16 on) and rendered."""
    tmp = tmp_path_factory.mktemp("edfi_rules")
    write_product(tmp / "product", GROUPS, USERS, MEMBERS)
    settings = settings_for(tmp)
    write_xwalks(settings, overrides=[("group_id", "g15", None), ("group_id", "g16", "Other")])
    land_and_build(tmp, settings, custom_xwalks=True)
    export = publish_render(settings, load_id="rules-run-1")
    return tmp, settings, export


def _by_identifier(path: Path) -> dict[str, dict]:
    return {line["cohortIdentifier"]: line for line in read_jsonl(path)}


def test_cohort_payloads_apply_each_rule(built) -> None:
    _, settings, _ = built
    out = settings.edfi_output
    cohorts = _by_identifier(out / "2025" / "cohorts.jsonl")
    # 20 characters is sent; padded description trimmed; the scope from the category.
    assert cohorts["Twenty chars exactly"] == {
        "cohortIdentifier": "Twenty chars exactly",
        "educationOrganizationReference": EDORG,
        "cohortDescription": "Padded description",
        "cohortScopeDescriptor": SCOPE + "School",
        "cohortTypeDescriptor": OTHER,
    }
    # Padded name trimmed; empty description and empty category: keys omitted, not null.
    assert cohorts["Padded Name"] == {
        "cohortIdentifier": "Padded Name",
        "educationOrganizationReference": EDORG,
        "cohortTypeDescriptor": OTHER,
    }
    # Null description omitted; an unmapped category (PLC) sends no scope.
    assert cohorts["No description"] == {
        "cohortIdentifier": "No description",
        "educationOrganizationReference": EDORG,
        "cohortTypeDescriptor": OTHER,
    }
    assert cohorts["Long ok"]["cohortDescription"] == LONG_OK
    # Every scope code, whatever the case and padding of the category.
    for label, (_, code) in SCOPE_CATEGORIES.items():
        assert cohorts[f"Scope {label}"]["cohortScopeDescriptor"] == SCOPE + code, label
    # A report group mapped by its _id is sent; a learner group unmapped by its _id is not.
    assert "Mapped report" in cohorts and "Unmapped one" not in cohorts
    sent_2025 = {
        "Twenty chars exactly",
        "Padded Name",
        "No description",
        "Long ok",
        "Shared",
        "Mapped report",
        *(f"Scope {label}" for label in SCOPE_CATEGORIES),
    }
    assert set(cohorts) == sent_2025
    # The other configured year gets its own folder; 2023 is not configured.
    assert set(_by_identifier(out / "2024" / "cohorts.jsonl")) == {"Last year group", "Shared"}
    assert not (out / "2023").exists()
    for line in cohorts.values():
        assert "academicSubjectDescriptor" not in line and "programs" not in line
        assert line["cohortTypeDescriptor"] == OTHER
        assert None not in line.values()


def test_skips_and_errors_are_counted_and_named(built) -> None:
    _, settings, export = built
    summary = json.loads((settings.edfi_output / "summary.json").read_text(encoding="utf-8"))
    assert summary == export.summary
    errors = {(e["code"], e["groupId"], e.get("userId")) for e in summary["errors"]}
    assert errors == {
        ("identifier_too_long", oid("g02"), None),
        ("identifier_too_long", oid("g17"), None),
        ("identifier_too_long", oid("g18"), None),
        ("description_too_long", oid("g10"), None),
        ("duplicate_identifier", oid("g11"), None),
        ("duplicate_identifier", oid("g12"), None),
        ("missing_staff_unique_id", oid("g01"), oid("u2")),
    }
    reasons = {e["groupId"]: e["reason"] for e in summary["errors"] if e["resource"] == "cohorts"}
    assert reasons[oid("g02")] == (
        'cohortIdentifier "Twenty-one characters" is 21 characters; '
        "the limit is 20 (EDFI_COHORT_ID_MAX_LENGTH)"
    )
    assert "1025 characters" in reasons[oid("g10")]
    assert oid("g11") in reasons[oid("g12")] and oid("g12") in reasons[oid("g11")]
    assert summary["groups"] == {
        "evaluated": len(GROUPS),
        "sent": 17,
        "skipped_deleted": 2,
        "skipped_unmapped": 2,
        "skipped_school_year": 1,
        "error": 6,
    }
    assert summary["memberships"] == {
        "evaluated": len(MEMBERS),
        "sent": 5,
        "skipped_cohort_not_sent": 2,
        "skipped_user_deleted": 1,
        "skipped_duplicate": 1,
        "error": 1,
    }
    assert summary["counts"]["cohorts"] == {"POST": 17, "PUT": 0, "DELETE": 0, "unchanged": 0}
    assert summary["counts"]["staffCohortAssociations"] == {"POST": 5, "PUT": 0, "DELETE": 0, "unchanged": 0}
    figures = export.figures()
    assert figures["Ed-Fi cohorts POST"] == 17
    assert figures["Ed-Fi errors (not sent, see summary.json)"] == 7


def test_staff_cohort_associations(built) -> None:
    _, settings, _ = built
    out = settings.edfi_output

    def assoc(begin: str, name: str, staff: str) -> dict:
        return {
            "beginDate": begin,
            "cohortReference": {"cohortIdentifier": name, "educationOrganizationId": DISTRICT},
            "staffReference": {"staffUniqueId": staff},
        }

    got_2025 = read_jsonl(out / "2025" / "staffCohortAssociations.jsonl")
    assert sorted(got_2025, key=json.dumps) == sorted(
        [
            assoc("2024-08-20", "Twenty chars exactly", "S1"),  # UTC date of 23:30Z
            assoc("2024-07-01", "Twenty chars exactly", "S4"),  # null addedAt: July 1 before 2025
            assoc("2024-08-25", "Twenty chars exactly", "S5"),  # two memberships: the earliest kept
            assoc("2024-08-19", "Padded Name", "S6"),  # trimmed staff id, trimmed cohort name
        ],
        key=json.dumps,
    )
    assert read_jsonl(out / "2024" / "staffCohortAssociations.jsonl") == [
        assoc("2023-07-01", "Last year group", "S4")
    ]


def test_every_line_validates_against_the_schemas(built) -> None:
    _, settings, _ = built
    _validate_output(settings.edfi_output, 20)
    schema_path = Path(__file__).resolve().parent.parent / "edfi" / "schemas" / "changeSummary.schema.json"
    summary_schema = json.loads(schema_path.read_text(encoding="utf-8"))
    Draft202012Validator(summary_schema).validate(
        json.loads((settings.edfi_output / "summary.json").read_text(encoding="utf-8"))
    )


def _validate_output(out: Path, max_length: int) -> int:
    """Every JSONL line against the project's schema and, when present, the shared Ed-Fi schema."""
    checked = 0
    for resource, name in (("cohorts", "cohort"), ("staffCohortAssociations", "staffCohortAssociation")):
        schemas = [load_schema(name, max_length)]
        shared = shared_schema(name, max_length)
        if (Path(__file__).resolve().parent.parent.parent / "shared" / "edfi").exists():
            assert shared is not None, f"../shared/edfi/{name}.schema.json is missing"
            schemas.append(shared)
        validators = [Draft202012Validator(s, format_checker=FormatChecker()) for s in schemas]
        for path in sorted(out.rglob(f"{resource}*.jsonl")):
            for line in read_jsonl(path):
                for v in validators:
                    v.validate(line)
                checked += 1
    assert checked > 0
    return checked


def test_a_too_long_name_is_refused_by_the_schema_too() -> None:
    """The schema check is real: a 21-character identifier fails it at the default limit, passes at 36."""
    line = {
        "cohortIdentifier": "Twenty-one characters",
        "educationOrganizationReference": EDORG,
        "cohortTypeDescriptor": OTHER,
    }
    assert not Draft202012Validator(load_schema("cohort", 20)).is_valid(line)
    assert Draft202012Validator(load_schema("cohort", 36)).is_valid(line)
    assert not Draft202012Validator(load_schema("cohort", 36)).is_valid(line | {"programs": []})


def test_max_length_36(built, tmp_path: Path) -> None:
    """Data Standard 5.x: 36 characters are sent, 37 still refused; the 21-character name now POSTs."""
    src, settings, _ = built
    con = duckdb.connect(str(settings.warehouse))
    con.execute("checkpoint")  # the copy must not miss what is still in the write-ahead log
    con.close()
    shutil.copy(settings.warehouse, tmp_path / "warehouse.duckdb")
    s36 = replace(settings_for(tmp_path, max_length=36), data_product=settings.data_product)
    rebuild_models(tmp_path, s36)
    export = publish_render(s36, load_id="rules-36")
    # Nothing was sent after the 20-character run, so everything is still to send; what is new is the two
    # names that now fit.
    before = _by_identifier(settings.edfi_output / "2025" / "cohorts.jsonl")
    posted = _by_identifier(s36.edfi_output / "2025" / "cohorts.jsonl")
    assert set(posted) - set(before) == {"Twenty-one characters", "Thirty-six characters is the limit!!"}
    codes = {(e["code"], e["groupId"]) for e in export.summary["errors"] if e["resource"] == "cohorts"}
    assert ("identifier_too_long", oid("g18")) in codes
    assert ("identifier_too_long", oid("g17")) not in codes
    reason = next(e["reason"] for e in export.summary["errors"] if e["groupId"] == oid("g18"))
    assert "the limit is 36" in reason
    # u1's membership of g02 now counts: its cohort is sent.
    def cohorts_of(out: Path) -> set[str]:
        path = out / "2025" / "staffCohortAssociations.jsonl"
        lines = read_jsonl(path) if path.exists() else []
        return {a["cohortReference"]["cohortIdentifier"] for a in lines}

    assert cohorts_of(s36.edfi_output) - cohorts_of(settings.edfi_output) == {"Twenty-one characters"}
    _validate_output(s36.edfi_output, 36)


def test_missing_district_id_fails_clearly(built, tmp_path: Path) -> None:
    src, settings, _ = built
    no_district = replace(settings, district_id=None)
    with pytest.raises(DbtError, match="edfi_district_id is not set"):
        rebuild_models(tmp_path, no_district)
    with pytest.raises(EdfiExportError, match="EDFI_DISTRICT_ID is not set"):
        render(no_district, load_id="no-district")
    # The models of the previous (good) build are untouched.
    assert rows(settings, "select count(*) as n from edfi.edfi_cohorts")[0]["n"] == 17
