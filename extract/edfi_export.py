"""Render the Ed-Fi Cohort export and keep the identity-mapping state between runs.

The dbt models in schema `edfi` say what would be sent now (typed columns, one row per cohort and per
association, plus every error). This module turns them into Ed-Fi payloads, compares them with what the
last *successful* run sent (the identity mapping, schema `edfi_state`), and writes only the changes, in
lightbeam's layout, into a staging folder:

    <EDFI_OUTPUT>.tmp-<load_id>/
        summary.json                                  counts per action and resource, every error
        <schoolYear>/cohorts.jsonl                    POST (new) and PUT (changed; the API upserts)
        <schoolYear>/staffCohortAssociations.jsonl    POST
        <schoolYear>/cohorts.deletes.jsonl            DELETE: the payload last sent (it carries the key)
        <schoolYear>/staffCohortAssociations.deletes.jsonl

Apply order: association deletes, cohort deletes, cohort upserts, association upserts (a cohort cannot be
deleted while associations point at it; an association needs its cohort).

Nothing is published by `render`: the pipeline validates the export first, then `commit_state` swaps the
staging folder in place of the output folder and writes the new state in one DuckDB transaction. A run
that fails before that leaves both the output folder and the state as they were.

Why this split: the business rules (what is valid, what is skipped) live in SQL where they are documented
and tested; the state machine (what changed since the last run) needs the previous run's state, which dbt
cannot own because a failed run must not touch it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from .config import Settings

STATE_SCHEMA = "edfi_state"
MODELS_SCHEMA = "edfi"
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
COHORTS = "cohorts"
ASSOCIATIONS = "staffCohortAssociations"
RESOURCES = (COHORTS, ASSOCIATIONS)
# The order a sender applies the files in (also written to summary.json).
APPLY_ORDER = (
    f"{ASSOCIATIONS}.deletes.jsonl",
    f"{COHORTS}.deletes.jsonl",
    f"{COHORTS}.jsonl",
    f"{ASSOCIATIONS}.jsonl",
)
ACTIONS = ("POST", "PUT", "DELETE")

_STATE_DDL = (
    f"create schema if not exists {STATE_SCHEMA}",
    f"""create table if not exists {STATE_SCHEMA}.cohort_identity (
        school_year integer not null,
        group_id varchar not null,
        cohort_identifier varchar not null,
        education_organization_id bigint not null,
        natural_key varchar not null,
        payload_hash varchar not null,
        payload json not null,
        last_load_id varchar not null,
        sent_at timestamp not null,
        primary key (school_year, group_id)
    )""",
    f"""create table if not exists {STATE_SCHEMA}.staff_cohort_association_identity (
        school_year integer not null,
        group_id varchar not null,
        user_id varchar not null,
        cohort_identifier varchar not null,
        staff_unique_id varchar not null,
        begin_date date not null,
        natural_key varchar not null,
        payload_hash varchar not null,
        payload json not null,
        last_load_id varchar not null,
        sent_at timestamp not null,
        primary key (school_year, group_id, user_id)
    )""",
    f"""create table if not exists {STATE_SCHEMA}.pending_payloads (
        load_id varchar not null,
        resource varchar not null,
        school_year integer not null,
        action varchar not null,
        change varchar not null,
        group_id varchar not null,
        user_id varchar,
        natural_key varchar not null,
        payload_hash varchar not null,
        payload json not null
    )""",
    f"""create table if not exists {STATE_SCHEMA}.commits (
        load_id varchar primary key,
        committed_at timestamp not null,
        summary json not null
    )""",
)
_STATE_TABLES = {COHORTS: "cohort_identity", ASSOCIATIONS: "staff_cohort_association_identity"}


class EdfiExportError(RuntimeError):
    """The export cannot be rendered or published; the message says why and what to do."""


def canonical_json(value: object) -> str:
    """One spelling per value, so files are byte-for-byte stable and hashes compare payloads."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def drop_none(value: Any) -> Any:
    """Ed-Fi bodies omit absent values rather than sending null."""
    if isinstance(value, dict):
        return {k: drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_none(v) for v in value]
    return value


@dataclass(frozen=True)
class Record:
    """One resource instance: rendered now, or as the state remembers it was last sent."""

    resource: str
    school_year: int
    group_id: str
    user_id: str | None
    payload: dict[str, Any]
    last_load_id: str | None = None
    sent_at: dt.datetime | None = None

    @property
    def identity(self) -> tuple[int, str, str]:
        """EdReflect's stable identity: the group (and member) per school year; names may change."""
        return (self.school_year, self.group_id, self.user_id or "")

    @property
    def natural_key(self) -> str:
        """Ed-Fi's identity of the record: a change means DELETE the old one and POST the new one."""
        p = self.payload
        if self.resource == COHORTS:
            key = {k: p[k] for k in ("cohortIdentifier", "educationOrganizationReference")}
        else:
            key = {k: p[k] for k in ("beginDate", "cohortReference", "staffReference")}
        return canonical_json(key)

    @property
    def line(self) -> str:
        return canonical_json(self.payload)

    @property
    def payload_hash(self) -> str:
        return hashlib.sha256(self.line.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Action:
    action: str  # POST | PUT | DELETE
    change: str  # new | changed | key_changed | removed
    record: Record


@dataclass
class EdfiExport:
    """What `render` prepared and `commit_state` publishes; nothing here is visible until then."""

    load_id: str
    staging_dir: Path
    output_dir: Path
    actions: list[Action]
    new_state: dict[str, list[Record]]
    summary: dict[str, Any]
    state_fingerprint: str
    committed: bool = field(default=False)

    def figures(self) -> dict[str, object]:
        """Figures for the console summary of a build."""
        out: dict[str, object] = {}
        counts = self.summary["counts"]
        for resource in RESOURCES:
            for action in ACTIONS:
                out[f"Ed-Fi {resource} {action}"] = counts[resource][action]
            out[f"Ed-Fi {resource} unchanged"] = counts[resource]["unchanged"]
        groups = self.summary["groups"]
        out["Ed-Fi groups skipped (deleted/unmapped/other year)"] = (
            f"{groups['skipped_deleted']}/{groups['skipped_unmapped']}/{groups['skipped_school_year']}"
        )
        out["Ed-Fi errors (not sent, see summary.json)"] = len(self.summary["errors"])
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


def _validators(max_length: int) -> dict[str, Any]:
    from jsonschema import Draft202012Validator, FormatChecker

    out = {}
    for resource, name in ((COHORTS, "cohort"), (ASSOCIATIONS, "staffCohortAssociation")):
        schema = load_schema(name, max_length)
        Draft202012Validator.check_schema(schema)
        out[resource] = Draft202012Validator(schema, format_checker=FormatChecker())
    return out


def _check_payloads(records: Iterable[Record], max_length: int) -> None:
    """A payload our rules let through but Ed-Fi would reject is a bug here: stop before publishing."""
    validators = _validators(max_length)
    problems = []
    for r in records:
        for err in validators[r.resource].iter_errors(r.payload):
            where = "/".join(str(p) for p in err.absolute_path) or "(root)"
            problems.append(
                f"{r.resource} group {r.group_id} school year {r.school_year}: {where}: {err.message}"
            )
    if problems:
        raise EdfiExportError("rendered Ed-Fi payloads break the schema:\n  " + "\n  ".join(problems[:20]))


# ------------------------------------------------------------------------------------------ read models


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _require_models(con: duckdb.DuckDBPyConnection) -> None:
    wanted = {
        "edfi_cohorts",
        "edfi_cohorts_evaluated",
        "edfi_staff_cohort_associations",
        "edfi_staff_cohort_associations_evaluated",
        "edfi_export_errors",
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
            "(`make dbt` or `python -m extract dbt build`)."
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
    return drop_none(
        {
            "beginDate": row["begin_date"].isoformat(),
            "cohortReference": {
                "cohortIdentifier": row["cohort_identifier"],
                "educationOrganizationId": int(row["education_organization_id"]),
            },
            "staffReference": {"staffUniqueId": row["staff_unique_id"]},
        }
    )


def _current(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, list[Record]]:
    """What the edfi models say should be in the ODS now."""
    cohorts = [
        Record(COHORTS, int(r["school_year"]), r["group_id"], None, _cohort_payload(r))
        for r in _rows(con, f"select * from {MODELS_SCHEMA}.edfi_cohorts")
    ]
    associations = [
        Record(ASSOCIATIONS, int(r["school_year"]), r["group_id"], r["user_id"], _association_payload(r))
        for r in _rows(con, f"select * from {MODELS_SCHEMA}.edfi_staff_cohort_associations")
    ]
    districts = {r.payload["educationOrganizationReference"]["educationOrganizationId"] for r in cohorts}
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


def _held(con: duckdb.DuckDBPyConnection) -> dict[str, set[tuple[int, str, str]]]:
    """Identities in error now: their last sent state is kept and nothing is sent or deleted for them.

    An error (a name too long, a missing staff id) is something the district fixes; deleting what the
    ODS already holds because of it would lose data the rules never asked to delete.
    """
    cohorts = {
        (int(y), g, "")
        for y, g in con.execute(
            f"select school_year, group_id from {MODELS_SCHEMA}.edfi_cohorts_evaluated "
            "where outcome = 'error'"
        ).fetchall()
    }
    members = {
        (int(y), g, u)
        for y, g, u in con.execute(
            f"""select school_year, group_id, user_id
                from {MODELS_SCHEMA}.edfi_staff_cohort_associations_evaluated where outcome = 'error'"""
        ).fetchall()
    }
    return {COHORTS: cohorts, ASSOCIATIONS: members}


def _block_held_names(
    current: dict[str, list[Record]], previous: dict[str, list[Record]], held: dict[str, set]
) -> list[dict[str, Any]]:
    """Keep a new cohort off a name that a group held in error still occupies in the ODS.

    The models see duplicates among the groups sent now; they cannot see that a group in error (held)
    still owns its last sent cohortIdentifier in Ed-Fi. A second group taking that name would overwrite
    the held record, and a later DELETE of one would remove the other. So the newcomer is held too and
    reported; `current` and `held` are changed in place; the extra errors are returned.
    """
    owners = {
        (r.school_year, r.payload["cohortIdentifier"].lower()): r.group_id
        for r in previous[COHORTS]
        if r.identity in held[COHORTS]
    }
    blocked: dict[tuple[int, str], str] = {}
    errors: list[dict[str, Any]] = []
    for r in current[COHORTS]:
        owner = owners.get((r.school_year, r.payload["cohortIdentifier"].lower()))
        if owner is not None and owner != r.group_id:
            blocked[(r.school_year, r.group_id)] = r.payload["cohortIdentifier"]
            errors.append(
                {
                    "resource": COHORTS,
                    "groupId": r.group_id,
                    "schoolYear": r.school_year,
                    "code": "duplicate_identifier",
                    "reason": f'cohortIdentifier "{r.payload["cohortIdentifier"]}" is still held in Ed-Fi by '
                    f"group {owner} (in error, last sent under that name): fix that group first",
                }
            )
    if blocked:
        current[COHORTS] = [r for r in current[COHORTS] if (r.school_year, r.group_id) not in blocked]
        current[ASSOCIATIONS] = [
            r for r in current[ASSOCIATIONS] if (r.school_year, r.group_id) not in blocked
        ]
        held[COHORTS] |= {(y, g, "") for y, g in blocked}
    return errors


def _state(con: duckdb.DuckDBPyConnection) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = {}
    for resource, table in _STATE_TABLES.items():
        user = "user_id" if resource == ASSOCIATIONS else "null"
        out[resource] = [
            Record(resource, int(y), g, u, json.loads(p), last, sent)
            for y, g, u, p, last, sent in con.execute(
                f"""select school_year, group_id, {user}, cast(payload as varchar), last_load_id, sent_at
                    from {STATE_SCHEMA}.{table} order by all"""
            ).fetchall()
        ]
    return out


def _fingerprint(state: dict[str, list[Record]]) -> str:
    h = hashlib.sha256()
    for resource in RESOURCES:
        for r in sorted(state[resource], key=lambda r: r.identity):
            h.update(canonical_json([resource, list(r.identity), r.payload_hash, r.last_load_id]).encode())
    return h.hexdigest()


# ------------------------------------------------------------------------------------------------- diff


def diff(
    current: list[Record], previous: list[Record], held: set[tuple[int, str, str]], load_id: str
) -> tuple[list[Action], list[Record], int]:
    """Actions taking the ODS from `previous` to `current`, the state after them, the unchanged count."""
    now = {r.identity: r for r in current}
    before = {r.identity: r for r in previous}
    if len(now) != len(current):
        raise EdfiExportError(
            "two rendered records share an identity (school year, group, user): a model bug"
        )
    actions: list[Action] = []
    state: list[Record] = []
    unchanged = 0

    def sent(r: Record) -> Record:
        return Record(r.resource, r.school_year, r.group_id, r.user_id, r.payload, load_id, None)

    for identity in sorted(now.keys() | before.keys()):
        new, old = now.get(identity), before.get(identity)
        if new is not None and old is None:
            actions.append(Action("POST", "new", new))
            state.append(sent(new))
        elif new is None and old is not None:
            if identity in held:
                state.append(old)
            else:
                actions.append(Action("DELETE", "removed", old))
        elif new is not None and old is not None:
            if new.natural_key != old.natural_key:
                actions.append(Action("DELETE", "key_changed", old))
                actions.append(Action("POST", "key_changed", new))
                state.append(sent(new))
            elif new.payload_hash != old.payload_hash:
                actions.append(Action("PUT", "changed", new))
                state.append(sent(new))
            else:
                unchanged += 1
                state.append(old)
    return actions, state, unchanged


# ------------------------------------------------------------------------------------------------ files


def _file_lines(actions: list[Action]) -> dict[str, list[str]]:
    """Relative file path -> sorted lines; upserts hold the new payload, deletes the last sent one."""
    files: dict[str, set[str]] = {}
    for a in actions:
        r = a.record
        suffix = ".deletes.jsonl" if a.action == "DELETE" else ".jsonl"
        files.setdefault(f"{r.school_year}/{r.resource}{suffix}", set()).add(r.line)
    return {path: sorted(lines) for path, lines in sorted(files.items())}


def _summary(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    actions: list[Action],
    unchanged: dict[str, int],
    files: dict[str, list[str]],
    extra_errors: list[dict[str, Any]],
    blocked: dict[str, int],
) -> dict[str, Any]:
    """The change summary: stable for identical input (no run ids, no timestamps)."""
    counts = {res: {a: 0 for a in ACTIONS} | {"unchanged": unchanged[res]} for res in RESOURCES}
    by_year: dict[str, dict[str, dict[str, int]]] = {}
    for a in actions:
        counts[a.record.resource][a.action] += 1
        year = by_year.setdefault(
            str(a.record.school_year), {res: dict.fromkeys(ACTIONS, 0) for res in RESOURCES}
        )
        year[a.record.resource][a.action] += 1
    group_outcomes = Counter(
        dict(
            con.execute(
                f"select outcome, count(*) from {MODELS_SCHEMA}.edfi_cohorts_evaluated group by 1"
            ).fetchall()
        )
    )
    member_outcomes = Counter(
        dict(
            con.execute(
                f"select outcome, count(*) from {MODELS_SCHEMA}.edfi_staff_cohort_associations_evaluated "
                "group by 1"
            ).fetchall()
        )
    )
    errors = [
        drop_none(
            {
                "resource": resource,
                "groupId": group_id,
                "userId": user_id,
                "schoolYear": int(year),
                "code": code,
                "reason": reason,
            }
        )
        for resource, group_id, user_id, year, code, reason in con.execute(
            f"""select resource, group_id, user_id, school_year, error_code, reason
                from {MODELS_SCHEMA}.edfi_export_errors order by all"""
        ).fetchall()
    ]
    errors = sorted(errors + extra_errors, key=canonical_json)
    # Groups kept off a held name (see _block_held_names) are errors, their members not sent.
    group_outcomes["sent"] -= blocked[COHORTS]
    group_outcomes["error"] += blocked[COHORTS]
    member_outcomes["sent"] -= blocked[ASSOCIATIONS]
    member_outcomes["skipped_cohort_not_sent"] += blocked[ASSOCIATIONS]
    group_keys = ("sent", "skipped_deleted", "skipped_unmapped", "skipped_school_year", "error")
    member_keys = ("sent", "skipped_cohort_not_sent", "skipped_user_deleted", "skipped_duplicate", "error")
    return {
        "educationOrganizationId": settings.district_id,
        "schoolYears": sorted(settings.school_years or ()),
        "cohortIdentifierMaxLength": settings.cohort_identifier_max_length,
        "applyOrder": list(APPLY_ORDER),
        "counts": counts,
        "countsBySchoolYear": dict(sorted(by_year.items())),
        "groups": {"evaluated": sum(group_outcomes.values())}
        | {k: group_outcomes.get(k, 0) for k in group_keys},
        "memberships": {"evaluated": sum(member_outcomes.values())}
        | {k: member_outcomes.get(k, 0) for k in member_keys},
        "errors": errors,
        "files": {path: len(lines) for path, lines in files.items()},
    }


def _write_files(staging: Path, files: dict[str, list[str]], summary: dict[str, Any]) -> None:
    for rel, lines in files.items():
        path = staging / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8", newline="\n")
    (staging / "summary.json").write_text(
        json.dumps(summary, sort_keys=True, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
        newline="\n",
    )


def _check_summary(summary: dict[str, Any]) -> None:
    from jsonschema import Draft202012Validator

    schema = json.loads((SCHEMA_DIR / "changeSummary.schema.json").read_text(encoding="utf-8"))
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(summary)]
    if errors:
        raise EdfiExportError("summary.json breaks its schema: " + "; ".join(errors[:5]))


def staging_dir_for(output: Path, load_id: str) -> Path:
    return output.parent / f"{output.name}.tmp-{load_id}"


def _pending_rows(load_id: str, actions: list[Action]) -> list[list[Any]]:
    cols: list[list[Any]] = [[] for _ in range(10)]
    for a in actions:
        r = a.record
        for i, v in enumerate(
            (
                load_id,
                r.resource,
                r.school_year,
                a.action,
                a.change,
                r.group_id,
                r.user_id,
                r.natural_key,
                r.payload_hash,
                r.line,
            )
        ):
            cols[i].append(v)
    return cols


def _insert_columns(
    con: duckdb.DuckDBPyConnection, table: str, names: list[str], cols: list[list[Any]]
) -> None:
    """Bulk insert column lists in one statement (row-by-row executemany is slow in DuckDB)."""
    if not cols or not cols[0]:
        return
    params = ", ".join(f"unnest(${i + 1}) as {n}" for i, n in enumerate(names))
    con.execute(f"insert into {table} ({', '.join(names)}) select {params}", cols)


# ----------------------------------------------------------------------------------------------- public


def ensure_state(con: duckdb.DuckDBPyConnection) -> None:
    """Create the identity-mapping tables on first use."""
    for ddl in _STATE_DDL:
        con.execute(ddl)


def render(settings: Settings, load_id: str) -> EdfiExport:
    """Compute this run's actions and write them to a staging folder; publishes nothing."""
    if settings.district_id is None:
        raise EdfiExportError(
            "EDFI_DISTRICT_ID is not set: the Ed-Fi export needs the district's educationOrganizationId."
        )
    output = settings.edfi_output
    staging = staging_dir_for(output, load_id)
    for stale in output.parent.glob(f"{output.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    con = duckdb.connect(str(settings.warehouse))
    try:
        _require_models(con)
        ensure_state(con)
        current = _current(con, settings)
        previous = _state(con)
        held = _held(con)
        rendered = {res: len(recs) for res, recs in current.items()}
        extra_errors = _block_held_names(current, previous, held)
        blocked = {res: rendered[res] - len(current[res]) for res in RESOURCES}
        _check_payloads((r for recs in current.values() for r in recs), settings.cohort_identifier_max_length)
        actions: list[Action] = []
        new_state: dict[str, list[Record]] = {}
        unchanged: dict[str, int] = {}
        # Associations of a cohort held in error stay as they were, like the cohort.
        held_groups = {(y, g) for y, g, _ in held[COHORTS]}
        held[ASSOCIATIONS] |= {
            r.identity for r in previous[ASSOCIATIONS] if (r.school_year, r.group_id) in held_groups
        }
        for resource in RESOURCES:
            acts, new_state[resource], unchanged[resource] = diff(
                current[resource], previous[resource], held[resource], load_id
            )
            actions += acts
        files = _file_lines(actions)
        summary = _summary(con, settings, actions, unchanged, files, extra_errors, blocked)
        _check_summary(summary)
        staging.mkdir(parents=True)
        _write_files(staging, files, summary)
        con.begin()
        con.execute(f"delete from {STATE_SCHEMA}.pending_payloads")
        _insert_columns(
            con,
            f"{STATE_SCHEMA}.pending_payloads",
            [
                "load_id",
                "resource",
                "school_year",
                "action",
                "change",
                "group_id",
                "user_id",
                "natural_key",
                "payload_hash",
                "payload",
            ],
            _pending_rows(load_id, actions),
        )
        con.commit()
        return EdfiExport(
            load_id=load_id,
            staging_dir=staging,
            output_dir=output,
            actions=actions,
            new_state=new_state,
            summary=summary,
            state_fingerprint=_fingerprint(previous),
        )
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        con.close()


def _write_state(con: duckdb.DuckDBPyConnection, export: EdfiExport, now: dt.datetime) -> None:
    for resource, table in _STATE_TABLES.items():
        con.execute(f"delete from {STATE_SCHEMA}.{table}")
        records = export.new_state[resource]
        if not records:
            continue
        common = {
            "school_year": [r.school_year for r in records],
            "group_id": [r.group_id for r in records],
            "cohort_identifier": [
                r.payload.get("cohortIdentifier") or r.payload["cohortReference"]["cohortIdentifier"]
                for r in records
            ],
            "natural_key": [r.natural_key for r in records],
            "payload_hash": [r.payload_hash for r in records],
            "payload": [r.line for r in records],
            "last_load_id": [r.last_load_id or export.load_id for r in records],
            "sent_at": [r.sent_at or now for r in records],
        }
        if resource == COHORTS:
            common["education_organization_id"] = [
                r.payload["educationOrganizationReference"]["educationOrganizationId"] for r in records
            ]
        else:
            common["user_id"] = [r.user_id for r in records]
            common["staff_unique_id"] = [r.payload["staffReference"]["staffUniqueId"] for r in records]
            common["begin_date"] = [dt.date.fromisoformat(r.payload["beginDate"]) for r in records]
        _insert_columns(con, f"{STATE_SCHEMA}.{table}", list(common), list(common.values()))


def commit_state(settings: Settings, export: EdfiExport) -> None:
    """Publish the staging folder as the output folder and record the new state, all or nothing."""
    if export.committed:
        raise EdfiExportError(f"export {export.load_id} was already published")
    staging, output = export.staging_dir, export.output_dir
    if not (staging / "summary.json").is_file():
        raise EdfiExportError(f"the rendered export {staging} is missing: render again")
    backup = output.parent / f"{output.name}.old-{export.load_id}"
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con = duckdb.connect(str(settings.warehouse))
    moved_old = moved_new = False
    try:
        ensure_state(con)
        con.begin()
        if _fingerprint(_state(con)) != export.state_fingerprint:
            raise EdfiExportError(
                "the identity-mapping state changed since this export was rendered (another run?): "
                "render again"
            )
        _write_state(con, export, now)
        con.execute(
            f"insert into {STATE_SCHEMA}.commits values (?, ?, ?)",
            [export.load_id, now, canonical_json(export.summary)],
        )
        output.parent.mkdir(parents=True, exist_ok=True)
        if output.exists():
            output.rename(backup)
            moved_old = True
        staging.rename(output)
        moved_new = True
        con.commit()
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # no transaction was open yet
            con.rollback()
        if moved_new:
            output.rename(staging)
        if moved_old:
            backup.rename(output)
        raise
    finally:
        con.close()
    export.committed = True
    shutil.rmtree(backup, ignore_errors=True)
