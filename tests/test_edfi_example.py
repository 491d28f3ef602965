"""The contract's example product through the shipped crosswalk seeds: what a district gets by default."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from _edfi import DISTRICT, EXAMPLE_PRODUCT, publish_render, read_jsonl, rows, shared_schema
from _example_build import built_example
from jsonschema import Draft202012Validator, FormatChecker

from edfi.render import EdfiExportError, load_schema, render

pytestmark = pytest.mark.slow

GRADE_3 = "66d0c3a0e1d2f3a4b5000011"
MATH_PLC = "66d0c3a0e1d2f3a4b5000012"
COACHING = "66d0c3a0e1d2f3a4b5000010"
TOM = "66d0c3a0e1d2f3a4b5000005"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory):
    """A copy of the session's example build (tests/_example_build.py: `dbt build` with the shipped seeds),
    rendered and published into a folder of the module's own, as a build's last step does."""
    built = built_example(tmp_path_factory, "edfi_example")
    settings = replace(
        built, data_product=str(EXAMPLE_PRODUCT), edfi_output=built.warehouse.parent / "published" / "edfi"
    )
    export = publish_render(settings, load_id="example-1")
    return settings, export


def test_example_product_default_preferences(example) -> None:
    settings, export = example
    out = settings.edfi_output
    edorg = {"educationOrganizationId": DISTRICT}
    other = "uri://ed-fi.org/CohortTypeDescriptor#Other"
    assert read_jsonl(out / "2025" / "cohorts.jsonl") == [
        # "Math PLC": category PLC is not mapped by default, so no scope
        {
            "cohortDescription": "Grades 7-8 math teachers, Ridge Middle School",
            "cohortIdentifier": "Math PLC",
            "cohortTypeDescriptor": other,
            "educationOrganizationReference": edorg,
        },
        # "Grade 3 Team": no description
        {
            "cohortIdentifier": "Grade 3 Team",
            "cohortScopeDescriptor": "uri://ed-fi.org/CohortScopeDescriptor#School",
            "cohortTypeDescriptor": other,
            "educationOrganizationReference": edorg,
        },
    ]
    assert read_jsonl(out / "2025" / "staffCohortAssociations.jsonl") == [
        {
            "beginDate": "2024-08-20",
            "cohortReference": {"cohortIdentifier": "Grade 3 Team", "educationOrganizationId": DISTRICT},
            "staffReference": {"staffUniqueId": "3100007781"},
        }
    ]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [(e["code"], e["groupId"], e.get("userId")) for e in summary["errors"]] == [
        ("identifier_too_long", COACHING, None),  # the 27-character name
        ("missing_staff_unique_id", MATH_PLC, TOM),  # the user without stateStaffId
    ]
    assert summary["groups"] == {
        "evaluated": 5,
        "sent": 2,
        "skipped_deleted": 1,
        "skipped_unmapped": 1,  # the report group
        "skipped_school_year": 0,
        "error": 1,
    }
    assert summary["memberships"]["skipped_user_deleted"] == 1
    # Math PLC is sent without a scope (PLC is not a mapped category): a warning, not an error.
    assert summary["warnings"] == [
        {
            "resource": "cohorts",
            "groupId": MATH_PLC,
            "schoolYear": 2025,
            "reason": 'sent without cohortScopeDescriptor: category "PLC" is not mapped to a cohort scope '
            "(seeds/xwalk_cohort_scopes.csv)",
        }
    ]
    # The audit gives every group and membership one outcome and a readable reason.
    audit = rows(
        settings, "select resource, group_id, user_id, outcome, severity, reason from edfi.edfi_outcomes"
    )
    assert len(audit) == summary["groups"]["evaluated"] + summary["memberships"]["evaluated"]
    assert all(r["reason"] for r in audit)
    by_group = {r["group_id"]: r for r in audit if r["resource"] == "cohorts"}
    assert by_group[COACHING]["severity"] == "error" and "27 characters" in by_group[COACHING]["reason"]
    assert by_group[GRADE_3]["reason"] == "sent" and by_group[GRADE_3]["severity"] == "info"
    figures = export.figures()
    assert (figures["Ed-Fi cohorts POST"], figures["Ed-Fi staffCohortAssociations POST"]) == (2, 1)
    assert figures["Ed-Fi errors (not sent, see summary.json)"] == 2
    for resource, name in (("cohorts", "cohort"), ("staffCohortAssociations", "staffCohortAssociation")):
        schemas = [load_schema(name)] + [s for s in [shared_schema(name)] if s is not None]
        for line in read_jsonl(out / "2025" / f"{resource}.jsonl"):
            for schema in schemas:
                Draft202012Validator(schema, format_checker=FormatChecker()).validate(line)
    # The default crosswalk seeds were used (not a test's own tables).
    assert rows(settings, "select count(*) as n from seeds.xwalk_cohort_scopes")[0]["n"] == 9


def test_render_refuses_models_built_for_another_run(example, tmp_path: Path) -> None:
    settings, _ = example
    with pytest.raises(EdfiExportError, match="built for educationOrganizationId"):
        render(replace(settings, district_id=DISTRICT + 1), load_id="other-district")
    with pytest.raises(EdfiExportError, match="school years"):
        render(replace(settings, school_years=(2024,)), load_id="other-years")
    with pytest.raises(EdfiExportError, match="run dbt first"):
        render(replace(settings, warehouse=tmp_path / "empty.duckdb"), load_id="no-models")
