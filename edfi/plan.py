"""The Ed-Fi delivery state and plan: what the API accepted, what the last build wants, the changes between.

Two facts are kept apart (schema `edfi_state`), because mixing them loses changes:
- `accepted`: every record the Ed-Fi API is known to hold because it accepted it (written by `make send`
  and `make resync` only);
- `desired`: what the last successful build wants the API to hold (written by `make build`): the records
  rendered now, plus, for a group or member held in error, the record the API accepted before.

The plan is always `desired` against `accepted`, so a change that was rendered but never sent (a skipped or
failed send) stays planned until it is sent or superseded; `make build` alone never claims anything was sent.
Keys compare as the ODS compares them (SQL Server's default collation ignores case), so `Math` and `MATH`
are one cohort. A cohort that goes (deleted, unmapped, renamed, year dropped, district changed) takes every
association the API holds for it along, held ones included: the ODS refuses to delete a cohort that an
association still references.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from .options import EdfiSettings

STATE_SCHEMA = "edfi_state"
COHORTS = "cohorts"
ASSOCIATIONS = "staffCohortAssociations"
RESOURCES = (COHORTS, ASSOCIATIONS)
ACTIONS = ("POST", "PUT", "DELETE")
DELETES_DIR = "deletes"
# The order a sender applies each school year's files in: a cohort cannot be deleted while associations
# point at it, and an association needs its cohort.
APPLY_ORDER = (
    f"{DELETES_DIR}/{ASSOCIATIONS}.jsonl",
    f"{DELETES_DIR}/{COHORTS}.jsonl",
    f"{COHORTS}.jsonl",
    f"{ASSOCIATIONS}.jsonl",
)

_RECORD_COLUMNS = """resource varchar not null,
        school_year integer not null,
        group_id varchar not null,
        user_id varchar not null,
        cohort_identifier varchar not null,
        education_organization_id bigint not null,
        staff_unique_id varchar,
        begin_date date,
        natural_key varchar not null,
        payload_hash varchar not null,
        payload json not null,
        load_id varchar not null"""

_STATE_DDL = (
    f"create schema if not exists {STATE_SCHEMA}",
    f"""create table if not exists {STATE_SCHEMA}.accepted ({_RECORD_COLUMNS},
        accepted_at timestamp not null,
        primary key (resource, school_year, group_id, user_id))""",
    f"""create table if not exists {STATE_SCHEMA}.desired ({_RECORD_COLUMNS},
        primary key (resource, school_year, group_id, user_id))""",
    f"""create table if not exists {STATE_SCHEMA}.pending_payloads (
        load_id varchar not null, resource varchar not null, school_year integer not null,
        action varchar not null, change varchar not null, group_id varchar not null, user_id varchar,
        natural_key varchar not null, payload_hash varchar not null, payload json not null)""",
    f"""create table if not exists {STATE_SCHEMA}.builds (
        load_id varchar primary key, built_at timestamp not null, allowed_deletes integer,
        summary json not null)""",
    f"""create table if not exists {STATE_SCHEMA}.sends (
        send_id varchar primary key, kind varchar not null, finished_at timestamp not null,
        summary json not null)""",
)
# Readable per-resource views for analysts (the tables hold both resources).
_VIEWS = {
    "accepted_cohorts": ("accepted", COHORTS),
    "accepted_staff_cohort_associations": ("accepted", ASSOCIATIONS),
    "desired_cohorts": ("desired", COHORTS),
    "desired_staff_cohort_associations": ("desired", ASSOCIATIONS),
}


class EdfiPlanError(RuntimeError):
    """The plan cannot be made or would do harm; the message says why and what to do."""


def canonical_json(value: object) -> str:
    """One spelling per value, so files are byte-for-byte stable and hashes compare payloads."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _fold(value: Any) -> Any:
    """Keys as the ODS compares them: strings ignoring case."""
    if isinstance(value, dict):
        return {k: _fold(v) for k, v in value.items()}
    return value.casefold() if isinstance(value, str) else value


@dataclass(frozen=True)
class Record:
    """One resource instance: wanted now, or as the API accepted it."""

    resource: str
    school_year: int
    group_id: str
    user_id: str  # "" for a cohort
    payload: dict[str, Any]
    load_id: str = ""

    @property
    def identity(self) -> tuple[str, int, str, str]:
        """EdReflect's stable identity: the group (and member) per school year; names may change."""
        return (self.resource, self.school_year, self.group_id, self.user_id)

    @property
    def cohort_ref(self) -> dict[str, Any]:
        p = self.payload
        if self.resource == COHORTS:
            org = p["educationOrganizationReference"]["educationOrganizationId"]
            return {"cohortIdentifier": p["cohortIdentifier"], "educationOrganizationId": org}
        return dict(p["cohortReference"])

    @property
    def cohort_key(self) -> str:
        """The cohort this record is (or belongs to), as the ODS compares it."""
        return canonical_json([self.school_year, _fold(self.cohort_ref)])

    @property
    def natural_key(self) -> str:
        """Ed-Fi's identity of the record, compared ignoring case: a change means DELETE + POST."""
        if self.resource == COHORTS:
            return self.cohort_key
        p = self.payload
        key = [self.school_year, p["beginDate"], _fold(self.cohort_ref), _fold(p["staffReference"])]
        return canonical_json(key)

    @property
    def line(self) -> str:
        return canonical_json(self.payload)

    @property
    def payload_hash(self) -> str:
        return hashlib.sha256(self.line.encode("utf-8")).hexdigest()

    def as_loaded(self, load_id: str) -> Record:
        return Record(self.resource, self.school_year, self.group_id, self.user_id, self.payload, load_id)


@dataclass(frozen=True)
class Action:
    action: str  # POST | PUT | DELETE
    change: str  # new | changed | key_changed | removed | cohort_removed
    record: Record


@dataclass
class Plan:
    """The actions taking the API from `accepted` to `desired`, and what the resource toggle withheld."""

    actions: list[Action]
    withheld: list[Action]
    unchanged: dict[str, int]

    def deletes(self) -> dict[str, int]:
        return {
            res: sum(a.action == "DELETE" and a.record.resource == res for a in self.actions)
            for res in RESOURCES
        }


# ------------------------------------------------------------------------------------------------ state


def state_views(schema: str = STATE_SCHEMA) -> dict[str, str]:
    """The readable per-resource views of the state in `schema`: name -> query (plain SQL, so
    PostgreSQL's copy of the state, `pipeline.postgres.copy_state`, has the same views)."""
    return {
        view: f"select * from {schema}.{table} where resource = '{resource}'"
        for view, (table, resource) in _VIEWS.items()
    }


def ensure_state(con: duckdb.DuckDBPyConnection) -> None:
    """Create the state tables on first use (and migrate the identity tables of earlier versions)."""
    for ddl in _STATE_DDL:
        con.execute(ddl)
    for view, query in state_views().items():
        con.execute(f"create or replace view {STATE_SCHEMA}.{view} as {query}")
    _migrate_identity_tables(con)


def _migrate_identity_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Earlier versions recorded what a build *wrote* as sent. Keep it as the best knowledge of what the
    API holds (a district may have sent those files by hand); `make resync` corrects it against the API."""
    old = {
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ?", [STATE_SCHEMA]
        ).fetchall()
    }
    legacy = {COHORTS: "cohort_identity", ASSOCIATIONS: "staff_cohort_association_identity"}
    if not set(legacy.values()) <= old:
        return
    records = []
    for resource, table in legacy.items():
        user = "user_id" if resource == ASSOCIATIONS else "''"
        for y, g, u, p, load in con.execute(
            f"select school_year, group_id, {user}, cast(payload as varchar), last_load_id "
            f"from {STATE_SCHEMA}.{table}"
        ).fetchall():
            records.append(Record(resource, int(y), g, u, json.loads(p), load))
    if not read_records(con, "accepted"):
        write_records(con, "accepted", records)
    for table in legacy.values():
        con.execute(f"drop table {STATE_SCHEMA}.{table}")
    con.execute(f"drop table if exists {STATE_SCHEMA}.commits")


def read_records(con: duckdb.DuckDBPyConnection, table: str) -> list[Record]:
    return [
        Record(resource, int(y), g, u, json.loads(p), load)
        for resource, y, g, u, p, load in con.execute(
            f"""select resource, school_year, group_id, user_id, cast(payload as varchar), load_id
                from {STATE_SCHEMA}.{table} order by all"""
        ).fetchall()
    ]


def by_resource(records: Iterable[Record]) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = {res: [] for res in RESOURCES}
    for r in records:
        out[r.resource].append(r)
    return out


def insert_columns(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, list[Any]]) -> None:
    """Bulk insert column lists in one statement (row-by-row executemany is slow in DuckDB)."""
    values = list(columns.values())
    if not values or not values[0]:
        return
    params = ", ".join(f"unnest(${i + 1}) as {n}" for i, n in enumerate(columns))
    con.execute(f"insert into {table} ({', '.join(columns)}) select {params}", values)


def write_records(
    con: duckdb.DuckDBPyConnection, table: str, records: list[Record], now: dt.datetime | None = None
) -> None:
    """Replace the whole table with `records` (the caller holds the transaction)."""
    con.execute(f"delete from {STATE_SCHEMA}.{table}")
    cols: dict[str, list[Any]] = {
        "resource": [r.resource for r in records],
        "school_year": [r.school_year for r in records],
        "group_id": [r.group_id for r in records],
        "user_id": [r.user_id for r in records],
        "cohort_identifier": [r.cohort_ref["cohortIdentifier"] for r in records],
        "education_organization_id": [r.cohort_ref["educationOrganizationId"] for r in records],
        "staff_unique_id": [r.payload.get("staffReference", {}).get("staffUniqueId") for r in records],
        "begin_date": [
            dt.date.fromisoformat(r.payload["beginDate"]) if "beginDate" in r.payload else None
            for r in records
        ],
        "natural_key": [r.natural_key for r in records],
        "payload_hash": [r.payload_hash for r in records],
        "payload": [r.line for r in records],
        "load_id": [r.load_id for r in records],
    }
    if table == "accepted":
        cols["accepted_at"] = [now or utc_now()] * len(records)
    insert_columns(con, f"{STATE_SCHEMA}.{table}", cols)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# ------------------------------------------------------------------------------------------------- plan


def plan_changes(desired: list[Record], accepted: list[Record], resources: Iterable[str] = RESOURCES) -> Plan:
    """The actions taking the API from `accepted` to `desired`; actions the toggle turns off are withheld."""
    want, have = by_resource(desired), by_resource(accepted)
    for res in RESOURCES:
        _unique(want[res], f"desired {res}")
    actions: list[Action] = []
    unchanged = dict.fromkeys(RESOURCES, 0)
    gone: set[str] = set()  # cohort keys the API will no longer hold
    for resource in RESOURCES:
        now = {r.identity: r for r in want[resource]}
        before = {r.identity: r for r in have[resource]}
        for identity in sorted(now.keys() | before.keys()):
            new, old = now.get(identity), before.get(identity)
            cascade = old is not None and resource == ASSOCIATIONS and old.cohort_key in gone
            if old is not None and (new is None or new.natural_key != old.natural_key or cascade):
                change = "removed" if new is None else "key_changed"
                if cascade and new is None:
                    change = "cohort_removed"
                actions.append(Action("DELETE", change, old))
                if resource == COHORTS:
                    gone.add(old.cohort_key)
                old = None
            if new is not None and old is None:
                actions.append(Action("POST", "new" if identity not in before else "key_changed", new))
            elif new is not None and old is not None:
                if new.payload_hash != old.payload_hash:
                    actions.append(Action("PUT", "changed", new))
                else:
                    unchanged[resource] += 1
    return _toggle(actions, unchanged, set(resources))


def _unique(records: list[Record], what: str) -> None:
    seen: dict[str, Record] = {}
    for r in records:
        other = seen.setdefault(r.natural_key, r)
        if other is not r:
            raise EdfiPlanError(
                f"two {what} records share the natural key {r.natural_key} (groups {other.group_id} and "
                f"{r.group_id}): a rule of the edfi models let a duplicate through"
            )


def _toggle(actions: list[Action], unchanged: dict[str, int], on: set[str]) -> Plan:
    """The seed's Resource Toggle: with a resource off, what was sent stays in the API and nothing new is
    sent. Cohorts off turns their associations off too (they cascade from cohorts); associations off keeps
    a cohort whose associations would have to go first (the API would refuse the DELETE)."""
    if on >= set(RESOURCES):
        return Plan(actions, [], unchanged)
    off = set(RESOURCES) - on
    if COHORTS in off:
        off.add(ASSOCIATIONS)
    blocked = {
        a.record.cohort_key for a in actions if a.record.resource == ASSOCIATIONS and a.action == "DELETE"
    }
    kept, withheld = [], []
    for a in actions:
        r = a.record
        stuck = (
            r.resource == COHORTS and a.action == "DELETE" and ASSOCIATIONS in off and r.cohort_key in blocked
        )
        (withheld if r.resource in off or stuck else kept).append(a)
    return Plan(kept, withheld, unchanged)


# ----------------------------------------------------------------------------------------- delete guard


@dataclass
class DeleteGuard:
    """Stops a run that would delete much of what the API holds until the user confirms the number."""

    threshold: float
    allowed: int | None
    district_id: int | None
    volumes: list[str] = field(default_factory=list)

    def check(self, plan: Plan, accepted: list[Record]) -> int:
        """Raise when the plan trips the guard unconfirmed; returns the confirmed delete count (0 if none)."""
        deletes = plan.deletes()
        total = sum(deletes.values())
        held = {res: sum(r.resource == res for r in accepted) for res in RESOURCES}
        reasons = [
            f"{deletes[res]} of the {held[res]} {res} the API holds ({deletes[res] / held[res]:.0%}, more "
            f"than EDFI_DELETE_THRESHOLD={self.threshold:g})"
            for res in RESOURCES
            if held[res] and deletes[res] > self.threshold * held[res]
        ]
        districts = {r.cohort_ref["educationOrganizationId"] for r in accepted if r.resource == COHORTS}
        if self.district_id is not None and districts and districts != {self.district_id}:
            reasons.append(
                f"EDFI_DISTRICT_ID changed: the API holds cohorts of educationOrganizationId "
                f"{', '.join(map(str, sorted(districts)))}, this run is for {self.district_id}"
            )
        if not reasons or total == 0:
            return 0
        if self.allowed == total:
            return total
        detail = "\n  ".join(reasons + self.volumes)
        counts = f"{deletes[COHORTS]} cohorts and {deletes[ASSOCIATIONS]} staffCohortAssociations"
        if self.allowed is None:
            head = f"stopped before writing anything: this run would DELETE {counts} in Ed-Fi"
        else:
            head = f"EDFI_ALLOW_DELETES={self.allowed} does not match the {total} deletes this run would make"
        raise EdfiPlanError(
            f"{head}:\n  {detail}\nIf that is right (check the delivery and the settings first), run again "
            f"with EDFI_ALLOW_DELETES={total} to confirm exactly that number."
        )


# ------------------------------------------------------------------------------------------------ files


def file_lines(actions: list[Action]) -> dict[str, list[str]]:
    """Relative file path -> sorted lines; upserts hold the new payload, deletes the accepted one."""
    files: dict[str, set[str]] = {}
    for a in actions:
        r = a.record
        folder = f"{r.school_year}/{DELETES_DIR}" if a.action == "DELETE" else f"{r.school_year}"
        files.setdefault(f"{folder}/{r.resource}.jsonl", set()).add(r.line)
    return {path: sorted(lines) for path, lines in sorted(files.items())}


def lightbeam_yaml(year: int, settings: EdfiSettings) -> str:
    """lightbeam's config for one school year's folder. No secret in it: lightbeam expands `${VAR}`.

    No `state_dir`: with one, lightbeam skips a line identical to one it sent before (a cohort to
    re-create after someone deleted it, or a delete of a payload it once posted) unless forced; what was
    accepted is this project's state, not lightbeam's."""
    url = settings.api_url or "${EDFI_API_URL}"
    return (
        f"# lightbeam config for school year {year}, written by edreflect-edfi. Run from this folder:\n"
        "#   lightbeam delete -c lightbeam.yaml --set data_dir ./deletes/   (see README: DS 3.3 APIs)\n"
        "#   lightbeam send -c lightbeam.yaml\n"
        "# The client id and secret come from the environment (EDFI_CLIENT_ID, EDFI_CLIENT_SECRET).\n"
        "data_dir: ./\n"
        "namespace: ed-fi\n"
        "force_delete: true\n"
        "edfi_api:\n"
        f"  base_url: {json.dumps(url)}\n"
        "  version: 3\n"
        "  mode: year_specific\n"
        f"  year: {year}\n"
        '  client_id: "${EDFI_CLIENT_ID}"\n'
        '  client_secret: "${EDFI_CLIENT_SECRET}"\n'
        "connection:\n"
        f"  verify_ssl: {'true' if settings.verify_ssl else 'false'}\n"
        "  num_retries: 3  # lightbeam's default (10) waits long on a down API; a repeated send resumes\n"
    )


def write_output(
    folder: Path, files: dict[str, list[str]], summary: dict[str, Any], settings: EdfiSettings
) -> None:
    """Write one output folder: the JSONL per school year, its lightbeam.yaml, and summary.json."""
    folder.mkdir(parents=True)
    years = sorted({rel.split("/", 1)[0] for rel in files})
    for rel, lines in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8", newline="\n")
    for year in years:
        (folder / year / "lightbeam.yaml").write_text(
            lightbeam_yaml(int(year), settings), encoding="utf-8", newline="\n"
        )
    (folder / "summary.json").write_text(
        json.dumps(summary, sort_keys=True, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
        newline="\n",
    )


def action_counts(plan: Plan) -> dict[str, Any]:
    """Counts per resource and per school year, and what the toggle withheld."""
    counts = {res: dict.fromkeys(ACTIONS, 0) | {"unchanged": plan.unchanged[res]} for res in RESOURCES}
    by_year: dict[str, dict[str, dict[str, int]]] = {}
    for a in plan.actions:
        counts[a.record.resource][a.action] += 1
        year = by_year.setdefault(
            str(a.record.school_year), {r: dict.fromkeys(ACTIONS, 0) for r in RESOURCES}
        )
        year[a.record.resource][a.action] += 1
    withheld = {res: dict.fromkeys(ACTIONS, 0) for res in RESOURCES}
    for a in plan.withheld:
        withheld[a.record.resource][a.action] += 1
    return {"counts": counts, "countsBySchoolYear": dict(sorted(by_year.items())), "withheld": withheld}


def pending_columns(load_id: str, actions: list[Action]) -> dict[str, list[Any]]:
    rs = [a.record for a in actions]
    return {
        "load_id": [load_id] * len(actions),
        "resource": [r.resource for r in rs],
        "school_year": [r.school_year for r in rs],
        "action": [a.action for a in actions],
        "change": [a.change for a in actions],
        "group_id": [r.group_id for r in rs],
        "user_id": [r.user_id or None for r in rs],
        "natural_key": [r.natural_key for r in rs],
        "payload_hash": [r.payload_hash for r in rs],
        "payload": [r.line for r in rs],
    }


def write_pending(con: duckdb.DuckDBPyConnection, load_id: str, actions: list[Action]) -> None:
    con.execute(f"delete from {STATE_SCHEMA}.pending_payloads")
    insert_columns(con, f"{STATE_SCHEMA}.pending_payloads", pending_columns(load_id, actions))
