"""Render the Ed-Fi Cohort export of a build: what the API should hold, and the changes to get it there.

The dbt models in schema `edfi` say what would be sent now (typed columns, one row per cohort and per
association, plus every error). This module turns them into Ed-Fi payloads, adds the records held in error
(what the API accepted for them stays as it is), stores that as `edfi_state.desired`, plans the changes
against what the API accepted (`edfi_state.accepted`, see `edfi_plan`) and writes them, in lightbeam's
layout, into a staging folder beside the output folder:

    <EDFI_OUTPUT>/
        summary.json                                    counts per action and resource, every error
        <schoolYear>/cohorts.jsonl                      upserts (POST new, PUT changed: the API upserts)
        <schoolYear>/staffCohortAssociations.jsonl
        <schoolYear>/deletes/cohorts.jsonl              DELETE: the payload the API accepted (its key)
        <schoolYear>/deletes/staffCohortAssociations.jsonl
        <schoolYear>/lightbeam.yaml                     lightbeam's config for that folder (no secret)

Nothing is published here: the build writes into its own copy of the warehouse and the pipeline swaps the
copy and this folder in only when every check passed (`pipeline.warehouse`).

Why this split: the business rules (what is valid, what is skipped) live in SQL where they are documented
and tested; the state machine needs the API's acceptances, which dbt cannot own.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from extract.warehouse import open_warehouse, transaction

from . import plan as plan_mod
from .options import EdfiSettings
from .plan import (
    APPLY_ORDER,
    ASSOCIATIONS,
    COHORTS,
    RESOURCES,
    STATE_SCHEMA,
    DeleteGuard,
    EdfiPlanError,
    Plan,
    Record,
    canonical_json,
)

MODELS_SCHEMA = "edfi"
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
_GROUP_KEYS = ("sent", "skipped_deleted", "skipped_unmapped", "skipped_school_year", "error")
_MEMBER_KEYS = ("sent", "skipped_cohort_not_sent", "skipped_user_deleted", "skipped_duplicate", "error")
# A table the export reads whose rows fall by more than this against the previous delivery is named in the
# delete guard's message (a cut or partial delivery is the usual cause of mass deletes).
_VOLUME_DROP = 0.25
_EXPORT_TABLES = ("groups", "users", "users.groups")


class EdfiExportError(EdfiPlanError):
    """The export cannot be rendered; the message says why and what to do."""


def drop_none(value: Any) -> Any:
    """Ed-Fi bodies omit absent values rather than sending null."""
    if isinstance(value, dict):
        return {k: drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_none(v) for v in value]
    return value


@dataclass
class EdfiExport:
    """What `render` prepared in the build's warehouse copy and staging folder (published by the pipeline)."""

    load_id: str
    staging_dir: Path
    plan: Plan
    summary: dict[str, Any]

    @property
    def actions(self) -> list[plan_mod.Action]:
        return self.plan.actions

    def figures(self) -> dict[str, object]:
        """Figures for the console summary of a build."""
        out: dict[str, object] = {}
        counts = self.summary["counts"]
        for resource in RESOURCES:
            for action in plan_mod.ACTIONS:
                out[f"Ed-Fi {resource} {action}"] = counts[resource][action]
            out[f"Ed-Fi {resource} unchanged"] = counts[resource]["unchanged"]
        groups = self.summary["groups"]
        out["Ed-Fi groups skipped (deleted/unmapped/other year)"] = (
            f"{groups['skipped_deleted']}/{groups['skipped_unmapped']}/{groups['skipped_school_year']}"
        )
        out["Ed-Fi errors (not sent, see summary.json)"] = len(self.summary["errors"])
        withheld = sum(sum(v.values()) for v in self.summary["withheld"].values())
        if withheld:
            out["Ed-Fi changes withheld (EDFI_RESOURCES)"] = withheld
        return out


# ---------------------------------------------------------------------------------------------- schemas


def load_schema(name: str, cohort_identifier_max_length: int = 20) -> dict[str, Any]:
    """A payload schema with the configured cohortIdentifier limit (20 in DS 3.x/4.0, 36 in DS 5.x)."""
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    props = schema.get("properties", {})
    if "cohortIdentifier" in props:
        props["cohortIdentifier"]["maxLength"] = cohort_identifier_max_length
    ref = props.get("cohortReference", {}).get("properties", {})
    if "cohortIdentifier" in ref:
        ref["cohortIdentifier"]["maxLength"] = cohort_identifier_max_length
    return schema


def _check_payloads(records: list[Record], max_length: int) -> None:
    """A payload our rules let through but Ed-Fi would reject is a bug here: stop before publishing."""
    from jsonschema import Draft202012Validator, FormatChecker

    validators = {}
    for resource, name in ((COHORTS, "cohort"), (ASSOCIATIONS, "staffCohortAssociation")):
        schema = load_schema(name, max_length)
        Draft202012Validator.check_schema(schema)
        validators[resource] = Draft202012Validator(schema, format_checker=FormatChecker())
    problems = [
        f"{r.resource} group {r.group_id} school year {r.school_year}: "
        f"{'/'.join(str(p) for p in err.absolute_path) or '(root)'}: {err.message}"
        for r in records
        for err in validators[r.resource].iter_errors(r.payload)
    ]
    if problems:
        raise EdfiExportError("rendered Ed-Fi payloads break the schema:\n  " + "\n  ".join(problems[:20]))


def check_summary(summary: dict[str, Any]) -> None:
    from jsonschema import Draft202012Validator

    schema = json.loads((SCHEMA_DIR / "changeSummary.schema.json").read_text(encoding="utf-8"))
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(summary)]
    if errors:
        raise EdfiExportError("summary.json breaks its schema: " + "; ".join(errors[:5]))


# ------------------------------------------------------------------------------------------ read models


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _require_models(con: duckdb.DuckDBPyConnection) -> None:
    wanted = {
        "edfi_cohorts",
        "edfi_cohorts_evaluated",
        "edfi_staff_cohort_associations",
        "edfi_staff_cohort_associations_evaluated",
        "edfi_export_errors",
        "edfi_outcomes",
    }
    have = {
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ?", [MODELS_SCHEMA]
        ).fetchall()
    }
    missing = sorted(wanted - have)
    if missing:
        raise EdfiExportError(
            f"the warehouse has no {', '.join(f'{MODELS_SCHEMA}.{m}' for m in missing)}: run dbt first "
            "(`make dbt` or `python -m pipeline dbt build`)."
        )


def _cohort_payload(row: dict[str, Any]) -> dict[str, Any]:
    return drop_none(
        {
            "cohortIdentifier": row["cohort_identifier"],
            "educationOrganizationReference": {
                "educationOrganizationId": int(row["education_organization_id"])
            },
            "cohortDescription": row["cohort_description"],
            "cohortScopeDescriptor": row["cohort_scope_descriptor"],
            "cohortTypeDescriptor": row["cohort_type_descriptor"],
        }
    )


def _association_payload(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "beginDate": row["begin_date"].isoformat(),
        "cohortReference": {
            "cohortIdentifier": row["cohort_identifier"],
            "educationOrganizationId": int(row["education_organization_id"]),
        },
        "staffReference": {"staffUniqueId": row["staff_unique_id"]},
    }


def _current(con: duckdb.DuckDBPyConnection, settings: EdfiSettings, load_id: str) -> dict[str, list[Record]]:
    """What the edfi models say should be in the ODS now."""
    cohorts = [
        Record(COHORTS, int(r["school_year"]), r["group_id"], "", _cohort_payload(r), load_id)
        for r in _rows(con, f"select * from {MODELS_SCHEMA}.edfi_cohorts")
    ]
    associations = [
        Record(
            ASSOCIATIONS, int(r["school_year"]), r["group_id"], r["user_id"], _association_payload(r), load_id
        )
        for r in _rows(con, f"select * from {MODELS_SCHEMA}.edfi_staff_cohort_associations")
    ]
    districts = {r.cohort_ref["educationOrganizationId"] for r in cohorts}
    if districts and districts != {settings.district_id}:
        raise EdfiExportError(
            f"the edfi models were built for educationOrganizationId {sorted(districts)}, but this run is "
            f"configured for {settings.district_id}: run dbt with this run's settings first."
        )
    years = {r.school_year for r in cohorts}
    configured = set(settings.school_years or ())
    if not years <= configured:
        raise EdfiExportError(
            f"the edfi models hold school years {sorted(years - configured)} that this run does not "
            f"configure ({sorted(configured)}): run dbt with this run's settings first."
        )
    return {COHORTS: cohorts, ASSOCIATIONS: associations}


def _held(con: duckdb.DuckDBPyConnection, accepted: dict[str, list[Record]]) -> set[tuple]:
    """Identities in error now: what the API accepted for them stays, nothing is sent or deleted for them.

    An error (a name too long, a missing staff id) is something the district fixes; deleting what the
    ODS already holds because of it would lose data the rules never asked to delete. Associations of a
    cohort held in error stay as they were, like the cohort.
    """
    held = {
        (COHORTS, int(y), g, "")
        for y, g in con.execute(
            f"select school_year, group_id from {MODELS_SCHEMA}.edfi_cohorts_evaluated "
            "where outcome = 'error'"
        ).fetchall()
    }
    held |= {
        (ASSOCIATIONS, int(y), g, u)
        for y, g, u in con.execute(
            f"""select school_year, group_id, user_id
                from {MODELS_SCHEMA}.edfi_staff_cohort_associations_evaluated
                where outcome = 'error'
                    and school_year is not null  -- a membership of an unknown group: no record to hold"""
        ).fetchall()
    }
    held_groups = {(y, g) for _, y, g, _ in held}
    held |= {r.identity for r in accepted[ASSOCIATIONS] if (r.school_year, r.group_id) in held_groups}
    return held


def _block_held_names(
    current: dict[str, list[Record]], accepted: dict[str, list[Record]], held: set[tuple]
) -> list[dict[str, Any]]:
    """Keep a new cohort off a name that a group held in error still occupies in the ODS.

    The models see duplicates among the groups sent now; they cannot see that a group in error (held)
    still owns its accepted cohortIdentifier in Ed-Fi. A second group taking that name would overwrite
    the held record, and a later DELETE of one would remove the other. So the newcomer is held too and
    reported; `current` and `held` are changed in place; the extra errors are returned.
    """
    owners = {r.cohort_key: r.group_id for r in accepted[COHORTS] if r.identity in held}
    blocked: set[tuple[int, str]] = set()
    errors: list[dict[str, Any]] = []
    for r in current[COHORTS]:
        owner = owners.get(r.cohort_key)
        if owner is not None and owner != r.group_id:
            blocked.add((r.school_year, r.group_id))
            errors.append(
                {
                    "resource": COHORTS,
                    "groupId": r.group_id,
                    "schoolYear": r.school_year,
                    "code": "duplicate_identifier",
                    "reason": f'cohortIdentifier "{r.payload["cohortIdentifier"]}" is still held in Ed-Fi by '
                    f"group {owner} (in error, accepted under that name): fix that group first",
                }
            )
    for res in RESOURCES:
        current[res] = [r for r in current[res] if (r.school_year, r.group_id) not in blocked]
    held |= {(COHORTS, y, g, "") for y, g in blocked}
    return errors


def desired_records(
    con: duckdb.DuckDBPyConnection, settings: EdfiSettings, load_id: str, accepted: list[Record]
) -> tuple[list[Record], list[dict[str, Any]], dict[str, int]]:
    """What the API should hold after this build: rendered records plus the accepted ones held in error."""
    have = plan_mod.by_resource(accepted)
    current = _current(con, settings, load_id)
    rendered = {res: len(recs) for res, recs in current.items()}
    held = _held(con, have)
    extra_errors = _block_held_names(current, have, held)
    blocked = {res: rendered[res] - len(current[res]) for res in RESOURCES}
    desired = current[COHORTS] + current[ASSOCIATIONS]
    _check_payloads(desired, settings.cohort_identifier_max_length)
    rendered_ids = {r.identity for r in desired}
    kept = [r for r in accepted if r.identity in held and r.identity not in rendered_ids]
    # A held association stays only while its cohort does: one whose cohort goes (renamed, deleted) goes
    # with it, since the API refuses to delete a cohort that an association still references.
    cohorts = {r.cohort_key for r in desired + kept if r.resource == COHORTS}
    desired += [r for r in kept if r.resource == COHORTS or r.cohort_key in cohorts]
    return desired, extra_errors, blocked


# ---------------------------------------------------------------------------------------------- summary


def _outcomes(con: duckdb.DuckDBPyConnection, model: str) -> Counter:
    return Counter(
        dict(con.execute(f"select outcome, count(*) from {MODELS_SCHEMA}.{model} group by 1").fetchall())
    )


def _errors(con: duckdb.DuckDBPyConnection, extra: list[dict[str, Any]]) -> list[dict[str, Any]]:
    errors = [
        drop_none(
            {
                "resource": resource,
                "groupId": group_id,
                "userId": user_id,
                # null for a membership of a group that does not exist (no school year to file it under)
                "schoolYear": int(year) if year is not None else None,
                "code": code,
                "reason": reason,
            }
        )
        for resource, group_id, user_id, year, code, reason in con.execute(
            f"""select resource, group_id, user_id, school_year, error_code, reason
                from {MODELS_SCHEMA}.edfi_export_errors order by all"""
        ).fetchall()
    ]
    return sorted(errors + extra, key=canonical_json)


def _warnings(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Sent, but worth a look (the audit model's warnings), in a stable order."""
    return [
        drop_none({"resource": res, "groupId": g, "userId": u, "schoolYear": int(y), "reason": reason})
        for res, g, u, y, reason in con.execute(
            f"""select resource, group_id, user_id, school_year, reason from {MODELS_SCHEMA}.edfi_outcomes
                where severity = 'warning' order by all"""
        ).fetchall()
    ]


def build_summary(
    con: duckdb.DuckDBPyConnection,
    settings: EdfiSettings,
    plan: Plan,
    files: dict[str, list[str]],
    extra_errors: list[dict[str, Any]],
    blocked: dict[str, int],
) -> dict[str, Any]:
    """The change summary: stable for identical input (no run ids, no timestamps)."""
    groups = _outcomes(con, "edfi_cohorts_evaluated")
    members = _outcomes(con, "edfi_staff_cohort_associations_evaluated")
    # Groups kept off a held name (see _block_held_names) are errors, their members not sent.
    groups["sent"] -= blocked[COHORTS]
    groups["error"] += blocked[COHORTS]
    members["sent"] -= blocked[ASSOCIATIONS]
    members["skipped_cohort_not_sent"] += blocked[ASSOCIATIONS]
    return {
        "educationOrganizationId": settings.district_id,
        "schoolYears": sorted(settings.school_years or ()),
        "cohortIdentifierMaxLength": settings.cohort_identifier_max_length,
        "resources": list(settings.resources),
        "applyOrder": list(APPLY_ORDER),
        **plan_mod.action_counts(plan),
        "groups": {"evaluated": sum(groups.values())} | {k: groups.get(k, 0) for k in _GROUP_KEYS},
        "memberships": {"evaluated": sum(members.values())} | {k: members.get(k, 0) for k in _MEMBER_KEYS},
        "errors": _errors(con, extra_errors),
        "warnings": _warnings(con),
        "files": {path: len(lines) for path, lines in files.items()},
    }


def _volume_drops(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Tables the export reads whose rows fell sharply against the previous delivery (for the guard)."""
    have = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = '_loads'"
    ).fetchone()[0]
    if not have:
        return []
    rows = con.execute(
        """with loads as (
               select load_id, max(loaded_at) as loaded from raw._loads
               group by 1 order by loaded desc limit 2
           )
           select l.table_name, l.load_id, l.rows_landed, loads.loaded from raw._loads as l
           join loads using (load_id)
           where l.table_name in (select unnest(?))
           order by loads.loaded desc""",
        [list(_EXPORT_TABLES)],
    ).fetchall()
    latest: dict[str, int] = {}
    previous: dict[str, int] = {}
    order = []
    for table, load_id, n, _ in rows:
        if load_id not in order:
            order.append(load_id)
        (latest if load_id == order[0] else previous)[table] = int(n or 0)
    return [
        f"{t}: {latest[t]:,} rows against {previous[t]:,} in the previous delivery "
        f"(-{1 - latest[t] / previous[t]:.0%}): is the delivery complete?"
        for t in _EXPORT_TABLES
        if previous.get(t) and t in latest and latest[t] < (1 - _VOLUME_DROP) * previous[t]
    ]


def guard_for(con: duckdb.DuckDBPyConnection, settings: EdfiSettings) -> DeleteGuard:
    return DeleteGuard(
        settings.delete_threshold, settings.allow_deletes, settings.district_id, _volume_drops(con)
    )


# ----------------------------------------------------------------------------------------------- public


def staging_dir_for(output: Path, load_id: str) -> Path:
    return output.parent / f"{output.name}.tmp-{load_id}"


def render(settings: EdfiSettings, load_id: str) -> EdfiExport:
    """Plan this build's Ed-Fi changes into `settings.warehouse` (the build's copy) and a staging folder.

    Raises, leaving nothing behind, when a payload breaks the schema or the delete guard trips.
    """
    if settings.district_id is None:
        raise EdfiExportError(
            "EDFI_DISTRICT_ID is not set: the Ed-Fi export needs the district's educationOrganizationId."
        )
    staging = staging_dir_for(settings.edfi_output, load_id)
    for stale in settings.edfi_output.parent.glob(f"{settings.edfi_output.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    con = open_warehouse(settings.warehouse)
    try:
        _require_models(con)
        plan_mod.ensure_state(con)
        accepted = plan_mod.read_records(con, "accepted")
        desired, extra_errors, blocked = desired_records(con, settings, load_id, accepted)
        plan = plan_mod.plan_changes(desired, accepted, settings.resources)
        allowed = guard_for(con, settings).check(plan, accepted)
        files = plan_mod.file_lines(plan.actions)
        summary = build_summary(con, settings, plan, files, extra_errors, blocked)
        check_summary(summary)
        plan_mod.write_output(staging, files, summary, settings)
        with transaction(con):
            plan_mod.write_records(con, "desired", desired)
            plan_mod.write_pending(con, load_id, plan.actions)
            con.execute(
                f"insert into {STATE_SCHEMA}.builds values (?, ?, ?, ?)",
                [load_id, plan_mod.utc_now(), allowed or None, canonical_json(summary)],
            )
        return EdfiExport(load_id=load_id, staging_dir=staging, plan=plan, summary=summary)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        con.close()
