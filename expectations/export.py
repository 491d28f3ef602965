"""Export layer suite: the Ed-Fi payloads this run is about to publish (`edfi_state.pending_payloads`).

The export is small by nature (one row per cohort and per membership and school year), so GX validates
the payload rows themselves with native expectations. Two facts need the delivery state and are derived
first: how many groups hold a cohortIdentifier in a school year once this run is applied, and whether each
association's cohort exists once this run is applied (what the build wants the API to hold,
`edfi_state.desired`).
"""

from __future__ import annotations

import csv
import json
from typing import Any

import duckdb
import pandas as pd

from extract.contract import PROJECT_ROOT
from pipeline.config import Settings

from .model import ERROR, LayerBatch
from .sql import relations

PAYLOADS = "edfi_state.pending_payloads"
COHORT_STATE = "edfi_state.desired_cohorts"  # what the API holds once this plan is applied
DESCRIPTORS_CSV = PROJECT_ROOT / "seeds" / "edfi_descriptors.csv"
COHORT_TYPE = "uri://ed-fi.org/CohortTypeDescriptor#Other"
COHORTS, ASSOCIATIONS = "cohorts", "staffCohortAssociations"
INDEX_COLUMNS = ["resource", "action", "school_year", "group_id", "user_id"]


class ExportNotRendered(RuntimeError):
    """validate_layer('export') ran before the export was rendered."""


def scope_descriptors() -> list[str]:
    with open(DESCRIPTORS_CSV, newline="", encoding="utf-8") as fh:
        return [
            f"{r['namespace']}#{r['codeValue']}"
            for r in csv.DictReader(fh)
            if r["namespace"].endswith("/CohortScopeDescriptor")
        ]


def null_paths(value: Any, path: str = "$") -> list[str]:
    """JSON paths holding null: Ed-Fi bodies omit absent values instead."""
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in null_paths(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in null_paths(v, f"{path}[{i}]")]
    return []


def payload_frame(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, list[str]]:
    """One row per pending payload with the fields the rules check, and the load ids they come from."""
    rows, state = _read_pending(con)
    records = [_payload_record(*row) for row in rows]
    _add_after_run_facts(records, state)
    load_ids = sorted({r["load_id"] for r in records})
    return _typed_frame(records), load_ids


def _read_pending(
    con: duckdb.DuckDBPyConnection,
) -> tuple[list[tuple[Any, ...]], list[tuple[int, str, str, int]]]:
    """The pending payloads, and the desired cohorts (the ODS once this plan is applied) when kept."""
    have = relations(con)
    if PAYLOADS not in have:
        raise ExportNotRendered(f"{PAYLOADS} does not exist: render the Ed-Fi export before validating it")
    rows = con.execute(
        f"select load_id, resource, school_year, action, group_id, user_id, payload::varchar from {PAYLOADS}"
    ).fetchall()
    state: list[tuple[int, str, str, int]] = []
    if COHORT_STATE in have:
        state = con.execute(
            f"select school_year, group_id, cohort_identifier, education_organization_id from {COHORT_STATE}"
        ).fetchall()
    return rows, state


def _payload_record(
    load_id: str, resource: str, year: Any, action: str, group_id: str, user_id: str | None, text: str
) -> dict[str, Any]:
    payload = json.loads(text)
    ref = payload.get("cohortReference") or {}
    edorg = (payload.get("educationOrganizationReference") or {}).get("educationOrganizationId")
    return {
        "load_id": load_id,
        "resource": resource,
        "action": action,
        "school_year": int(year),
        "group_id": group_id,
        "user_id": user_id,
        "cohort_identifier": payload.get("cohortIdentifier", ref.get("cohortIdentifier")),
        "education_organization_id": edorg if edorg is not None else ref.get("educationOrganizationId"),
        "cohort_type_descriptor": payload.get("cohortTypeDescriptor"),
        "cohort_scope_descriptor": payload.get("cohortScopeDescriptor"),
        "null_values": ", ".join(null_paths(payload)) or None,
    }


def _add_after_run_facts(records: list[dict[str, Any]], state: list[tuple[int, str, str, int]]) -> None:
    """Add to each record what needs the ODS once this run is applied: how many groups hold a cohort's
    identifier, whether an association's cohort exists; and the record's kind."""
    # The ODS once this run is applied: cohorts of the state not touched now, plus this run's upserts.
    touched = {(r["school_year"], r["group_id"]) for r in records if r["resource"] == COHORTS}
    after: list[tuple[int, str, str, Any]] = [
        (int(y), g, ident, edorg) for y, g, ident, edorg in state if (int(y), g) not in touched
    ]
    after += [
        (r["school_year"], r["group_id"], r["cohort_identifier"], r["education_organization_id"])
        for r in records
        if r["resource"] == COHORTS and r["action"] != "DELETE"
    ]
    owners: dict[tuple[int, str], set[str]] = {}
    for y, g, ident, _ in after:
        owners.setdefault((y, ident), set()).add(g)
    cohorts_after = {(y, ident, str(edorg)) for y, _, ident, edorg in after}
    for r in records:
        upsert = r["action"] != "DELETE"
        key = (r["school_year"], r["cohort_identifier"])
        r["groups_with_identifier"] = (
            len(owners.get(key, ())) if upsert and r["resource"] == COHORTS else None
        )
        r["cohort_after_run"] = (
            (r["school_year"], r["cohort_identifier"], str(r["education_organization_id"])) in cohorts_after
            if upsert and r["resource"] == ASSOCIATIONS
            else None
        )
        r["kind"] = f"{r['resource']} {'delete' if not upsert else 'upsert'}"


_FRAME_COLUMNS = [
    "load_id",
    "resource",
    "action",
    "kind",
    "school_year",
    "group_id",
    "user_id",
    "cohort_identifier",
    "education_organization_id",
    "cohort_type_descriptor",
    "cohort_scope_descriptor",
    "null_values",
    "groups_with_identifier",
    "cohort_after_run",
]


def _typed_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=_FRAME_COLUMNS)
    return frame.astype(
        {
            "education_organization_id": "Int64",
            "groups_with_identifier": "Int64",
            "cohort_after_run": "object",
            "cohort_identifier": "object",
            "cohort_type_descriptor": "object",
            "cohort_scope_descriptor": "object",
            "null_values": "object",
            "user_id": "object",
        }
    )


def expectations(settings: Settings) -> list[Any]:
    """The export's rules as GX expectations: each payload's own fields, then the facts across payloads."""
    return _field_expectations(settings) + _cross_payload_expectations()


def _meta(check: str) -> dict[str, str]:
    return {"check": check, "severity": ERROR, "layer": "export", "table": PAYLOADS}


def _field_expectations(settings: Settings) -> list[Any]:
    """Every payload's identifier, descriptors, district and absent nulls.

    Longer than most functions because it is one declarative list, an expectation per rule, read top-down."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.metadata_types import FailureSeverity
    from great_expectations.expectations.row_conditions import Column

    upserts = Column("action") != "DELETE"
    cohort_upserts = Column("kind") == f"{COHORTS} upsert"
    max_len = settings.cohort_identifier_max_length
    meta = _meta
    common = {"severity": FailureSeverity.CRITICAL}
    district = [settings.district_id] if settings.district_id is not None else []
    return [
        gxe.ExpectColumnValuesToNotBeNull(
            column="cohort_identifier",
            row_condition=upserts,
            meta=meta("cohort_identifier_present"),
            description="every payload has a cohortIdentifier [error]",
            **common,
        ),
        gxe.ExpectColumnValueLengthsToBeBetween(
            column="cohort_identifier",
            min_value=1,
            max_value=max_len,
            row_condition=upserts,
            meta=meta("cohort_identifier_length"),
            description=f"cohortIdentifier is 1-{max_len} characters (EDFI_COHORT_ID_MAX_LENGTH) [error]",
            **common,
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="cohort_type_descriptor",
            row_condition=cohort_upserts,
            meta=meta("cohort_type_present"),
            description="every Cohort has a cohortTypeDescriptor [error]",
            **common,
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="cohort_type_descriptor",
            value_set=[COHORT_TYPE],
            row_condition=cohort_upserts,
            meta=meta("cohort_type_other"),
            description=f"cohortTypeDescriptor is {COHORT_TYPE} [error]",
            **common,
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="cohort_scope_descriptor",
            value_set=scope_descriptors(),
            row_condition=cohort_upserts,
            meta=meta("cohort_scope_known"),
            description="cohortScopeDescriptor, when present, is an Ed-Fi CohortScopeDescriptor "
            "(seeds/edfi_descriptors.csv) [error]",
            **common,
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="education_organization_id",
            row_condition=upserts,
            meta=meta("education_organization_present"),
            description="every payload names its educationOrganizationId [error]",
            **common,
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="education_organization_id",
            value_set=district,
            row_condition=upserts,
            meta=meta("education_organization_configured"),
            description=f"educationOrganizationId is the configured district ({settings.district_id}) "
            "[error]",
            **common,
        ),
        gxe.ExpectColumnValuesToBeNull(
            column="null_values",
            meta=meta("no_null_values"),
            description="no payload holds a null value (absent values are omitted) [error]",
            **common,
        ),
    ]


def _cross_payload_expectations() -> list[Any]:
    """What holds once this run is applied: one group per cohortIdentifier, every association's cohort."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.metadata_types import FailureSeverity
    from great_expectations.expectations.row_conditions import Column

    cohort_upserts = Column("kind") == f"{COHORTS} upsert"
    association_upserts = Column("kind") == f"{ASSOCIATIONS} upsert"
    meta = _meta
    common = {"severity": FailureSeverity.CRITICAL}
    return [
        gxe.ExpectColumnValuesToBeBetween(
            column="groups_with_identifier",
            min_value=1,
            max_value=1,
            row_condition=cohort_upserts,
            meta=meta("cohort_identifier_unique"),
            description="a cohortIdentifier belongs to one group per school year once this run is applied "
            "[error]",
            **common,
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="cohort_after_run",
            value_set=[True],
            row_condition=association_upserts,
            meta=meta("association_cohort_sent"),
            description="every StaffCohortAssociation references a cohort sent in this run or kept from the "
            "last one (not deleted now) [error]",
            **common,
        ),
    ]


def batch(con: duckdb.DuckDBPyConnection, settings: Settings) -> LayerBatch:
    frame, load_ids = payload_frame(con)
    return LayerBatch(
        layer="export",
        frame=frame,
        index_columns=INDEX_COLUMNS,
        subject="Ed-Fi payloads",
        context={"load_id": ", ".join(load_ids) or None},
    )
