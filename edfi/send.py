"""Deliver the planned Ed-Fi changes (`make send`) and reconcile the state with the API (`make resync`).

`send_pending` applies, per school year, association deletes, cohort deletes, cohort upserts, association
upserts, and moves into `edfi_state.accepted` only what the API accepted; what failed stays planned, its
API message goes into summary.json, and the exit code is non-zero. Repeating a send (after a failure, a
cut, or with nothing left) converges: upserts are idempotent and a delete of a record the API no longer
holds is done.

Upserts go through the real lightbeam (`lightbeam send`, its `--results-file` names each failed file and
line). Deletes do not: lightbeam 0.1.12 looks a record up by the fields the API's swagger marks as identity,
and the Data Standard 3.3 swagger (what a Nebraska v3.x ODS serves) marks only top-level fields, so it
looks an association up by `beginDate` alone (skipping it as ambiguous, then the cohort DELETE gets 409)
and a cohort by `cohortIdentifier` alone (another district's cohort of the same name could match); its
`delete` also writes no per-line outcome to the results file. So deletes use Education Analytics'
`edfi_api_client`: GET by the whole natural key, DELETE by id.

Both work on the full copy of the live warehouse they are given (`StateCopy`) and publish it when they
changed the state; the run lock and the copy are the orchestration's (`pipeline.delivery`).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import duckdb

from extract.warehouse import open_warehouse

from . import plan as plan_mod
from .options import EdfiSettings
from .plan import ASSOCIATIONS, COHORTS, RESOURCES, STATE_SCHEMA, Action, Plan, Record, canonical_json
from .render import check_summary, guard_for, staging_dir_for

_LIGHTBEAM_TIMEOUT = 3600  # seconds for one lightbeam call (bounded; a real API answers far sooner)
_PAGE = 500  # records per GET page (the ODS/API maximum)
_API_NOISE = ("id", "_etag", "_lastModifiedDate", "link")


class SendError(RuntimeError):
    """The delivery cannot start (no build, API unreachable); the message says what to do."""


@dataclass
class Delivery:
    """What one send did: the accepted records by identity, and every failure with the API's message."""

    accepted: dict[tuple, Record]
    done: dict[str, dict[str, int]] = field(
        default_factory=lambda: {res: dict.fromkeys(plan_mod.ACTIONS, 0) for res in RESOURCES}
    )
    failures: list[dict[str, Any]] = field(default_factory=list)

    def ok(self, a: Action) -> None:
        self.done[a.record.resource][a.action] += 1
        if a.action == "DELETE":
            self.accepted.pop(a.record.identity, None)
        else:
            self.accepted[a.record.identity] = a.record

    def fail(self, a: Action, status: int | None, message: str) -> None:
        r = a.record
        self.failures.append(
            {
                "resource": r.resource,
                "schoolYear": r.school_year,
                "action": a.action,
                "groupId": r.group_id,
                "userId": r.user_id or None,
                "status": status,
                "message": message,
                "payload": r.payload,
            }
        )


# ---------------------------------------------------------------------------------------------- clients


def _client(settings: EdfiSettings, year: int):
    from edfi_api_client import EdFiClient

    return EdFiClient(
        settings.api_url,
        settings.secrets.get("EDFI_CLIENT_ID"),
        settings.secrets.get("EDFI_CLIENT_SECRET"),
        api_mode="year_specific",
        api_year=year,
        verify_ssl=settings.verify_ssl,
    )


def _clean(value: Any) -> Any:
    """An API body as we render it: no ids, links, etags, nulls or empty lists."""
    if isinstance(value, dict):
        out = {k: _clean(v) for k, v in value.items() if k not in _API_NOISE and v is not None}
        return {k: v for k, v in out.items() if v != [] and v != {}}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _key_params(r: Record) -> dict[str, Any]:
    ref = r.cohort_ref
    params = {
        "cohortIdentifier": ref["cohortIdentifier"],
        "educationOrganizationId": ref["educationOrganizationId"],
    }
    if r.resource == ASSOCIATIONS:
        params |= {
            "beginDate": r.payload["beginDate"],
            "staffUniqueId": r.payload["staffReference"]["staffUniqueId"],
        }
    return params


def _http_error(exc: Exception) -> tuple[int | None, str]:
    response = getattr(exc, "response", None)
    if response is None:
        return None, f"the API could not be reached ({type(exc).__name__}: {exc})"
    try:
        body = response.json()
        text = body.get("message") or body.get("detail") or json.dumps(body)
    except ValueError:
        text = response.text[:300]
    return response.status_code, f"{response.status_code}: {text}"


def _delete(client, a: Action, delivery: Delivery) -> None:
    """GET by the whole natural key, DELETE by id; a record the API no longer holds counts as deleted."""
    r = a.record
    endpoint = client.resource(r.resource)
    try:
        rows = endpoint.get(params=_key_params(r))
        matches = [
            row for row in rows if _as_record(r.resource, r.school_year, row).natural_key == r.natural_key
        ]
        if len(matches) > 1:
            delivery.fail(a, None, f"{len(matches)} records in the API match this key: not deleted")
            return
        if matches:
            client.session.delete_response(endpoint.url, matches[0]["id"])
    except Exception as exc:  # requests' HTTPError and connection errors alike
        status, message = _http_error(exc)
        if status != 404:  # deleted by someone else in between: done
            delivery.fail(a, status, message)
            if status is None:
                raise SendError(message) from None
            return
    delivery.ok(a)


def _as_record(resource: str, year: int, row: dict[str, Any], identity: tuple[str, str] = ("", "")) -> Record:
    return Record(resource, year, identity[0], identity[1], _clean(row))


def _lightbeam(
    settings: EdfiSettings, year: int, actions: list[Action], delivery: Delivery, log: Path
) -> None:
    """`lightbeam send` one resource's upserts of one year; read which lines the API accepted."""
    resource = actions[0].record.resource
    lines = sorted({a.record.line: a for a in actions}.items())
    with tempfile.TemporaryDirectory(prefix="edreflect-send-") as tmp:
        folder = Path(tmp)
        (folder / f"{resource}.jsonl").write_text("".join(f"{line}\n" for line, _ in lines), encoding="utf-8")
        (folder / "lightbeam.yaml").write_text(plan_mod.lightbeam_yaml(year, settings), encoding="utf-8")
        results = folder / "results.json"
        env = os.environ | {
            "EDFI_API_URL": settings.api_url or "",
            "EDFI_CLIENT_ID": settings.secrets.get("EDFI_CLIENT_ID", ""),
            "EDFI_CLIENT_SECRET": settings.secrets.get("EDFI_CLIENT_SECRET", ""),
        }
        cmd = [sys.executable, "-m", "lightbeam", "send", "-c", "lightbeam.yaml", "-s", resource]
        with open(log, "a", encoding="utf-8") as out:
            out.write(f"\n$ {' '.join(cmd)} --results-file results.json  (school year {year})\n")
            out.flush()
            try:
                proc = subprocess.run(
                    [*cmd, "--results-file", str(results)],
                    cwd=folder,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=_LIGHTBEAM_TIMEOUT,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                proc = None
        report = json.loads(results.read_text(encoding="utf-8")) if results.exists() else None
    _read_results(report, proc.returncode if proc else None, resource, lines, delivery, log)


def _read_results(
    report: dict | None,
    code: int | None,
    resource: str,
    lines: list[tuple[str, Action]],
    delivery: Delivery,
    log: Path,
) -> None:
    """A line is accepted only when lightbeam's counts prove it: its failures list names each failed line
    (file and line number), and the 2xx answers plus the failures must add up to every line. lightbeam
    0.1.12 loses a dropped connection silently (no failure, no count, exit 0), so when the sum falls
    short nothing but the named failures is decided: the rest stays to send, and a repeated send upserts
    it again, which is harmless."""
    stats = (report or {}).get("resources", {}).get(resource)
    if stats is None:
        why = "timed out" if code is None else f"exited with {code}"
        for _, a in lines:
            delivery.fail(a, None, f"lightbeam {why} before reporting (see {log})")
        raise SendError(f"lightbeam send {resource} {why} without a results file: see {log}")
    failed: dict[int, tuple[int, str]] = {}
    for f in stats.get("failures", []):
        for n in f["line_numbers"]:
            failed[int(n)] = (f["status_code"], f["message"])
    succeeded = sum(int(s["count"]) for s in stats.get("successes", []))
    reconciled = succeeded + len(failed) == len(lines) and stats.get("records_failed", 0) == len(failed)
    for n, (_, a) in enumerate(lines, start=1):
        if n in failed:
            delivery.fail(a, *failed[n])
        elif reconciled:
            delivery.ok(a)
        else:
            delivery.fail(a, None, f"no answer from the API is recorded for this line (see {log})")
    if not reconciled:
        raise SendError(
            f"lightbeam send {resource}: {len(lines) - succeeded - len(failed)} line(s) got no answer "
            "(the API went away?)"
        )


# ------------------------------------------------------------------------------------------------- send


def _by_year(actions: list[Action]) -> Iterator[tuple[int, list[list[Action]]]]:
    """Per school year, the four steps in apply order."""
    for year in sorted({a.record.school_year for a in actions}):
        mine = [a for a in actions if a.record.school_year == year]
        steps = [
            [a for a in mine if a.action == "DELETE" and a.record.resource == ASSOCIATIONS],
            [a for a in mine if a.action == "DELETE" and a.record.resource == COHORTS],
            [a for a in mine if a.action != "DELETE" and a.record.resource == COHORTS],
            [a for a in mine if a.action != "DELETE" and a.record.resource == ASSOCIATIONS],
        ]
        yield year, steps


def _deliver(settings: EdfiSettings, actions: list[Action], delivery: Delivery, log: Path) -> str | None:
    """Apply the actions; returns why it stopped early (the API went away), or None."""
    try:
        for year, steps in _by_year(actions):
            client = _client(settings, year) if steps[0] or steps[1] else None
            for step in steps[:2]:
                for a in step:
                    _delete(client, a, delivery)
            for step in steps[2:]:
                if step:
                    _lightbeam(settings, year, step, delivery, log)
    except SendError as exc:
        return str(exc)
    return None


def _latest_build(con: duckdb.DuckDBPyConnection) -> tuple[str, int | None, dict[str, Any]]:
    row = con.execute(
        f"select load_id, allowed_deletes, cast(summary as varchar) from {STATE_SCHEMA}.builds "
        "order by built_at desc limit 1"
    ).fetchone()
    if row is None:
        raise SendError("nothing to send: no build has been published yet. Run `make build` first.")
    return row[0], row[1], json.loads(row[2])


def _rewrite_output(
    con: duckdb.DuckDBPyConnection,
    settings: EdfiSettings,
    ws: StateCopy,
    desired: list[Record],
    extra: dict[str, Any],
) -> plan_mod.Plan:
    """The output folder always holds what is still to send: the plan of `desired` against `accepted`."""
    _, _, summary = _latest_build(con)
    accepted = plan_mod.read_records(con, "accepted")
    plan = plan_mod.plan_changes(desired, accepted, settings.resources)
    files = plan_mod.file_lines(plan.actions)
    summary |= plan_mod.action_counts(plan) | {"files": {p: len(v) for p, v in files.items()}} | extra
    check_summary(summary)
    staging = staging_dir_for(settings.edfi_output, uuid.uuid4().hex)
    plan_mod.write_output(
        staging, files, summary, replace(settings, school_years=tuple(summary["schoolYears"]))
    )
    ws.output_staging = staging
    plan_mod.write_pending(con, "send", plan.actions)
    return plan


class StateCopy(Protocol):
    """A private, full copy of the live warehouse that the caller holds (with the run lock) and that
    `publish` swaps in; `pipeline.warehouse.Workspace` is one."""

    work: Path  # the copy's DuckDB file
    output_staging: Path | None  # the rewritten output folder, swapped in with the copy

    def publish(self) -> None: ...


@dataclass
class _StateRun:
    """One send or resync: a connection to a full copy of the live warehouse and its delivery state."""

    settings: EdfiSettings
    con: duckdb.DuckDBPyConnection
    ws: StateCopy
    desired: list[Record]
    accepted: list[Record]
    build_allowed: int | None
    changed: bool = False

    def record(self, kind: str, accepted: list[Record], result: dict[str, Any]) -> Plan:
        """Store the new `accepted`, rewrite the output folder with `result` in its summary, log the run;
        returns what is left to send."""
        self.changed = True
        self.con.begin()
        plan_mod.write_records(self.con, "accepted", sorted(accepted, key=lambda r: r.identity))
        plan = _rewrite_output(self.con, self.settings, self.ws, self.desired, result)
        self.con.execute(
            f"insert into {STATE_SCHEMA}.sends values (?, ?, ?, ?)",
            [uuid.uuid4().hex, kind, plan_mod.utc_now(), canonical_json(result)],
        )
        return plan


@contextlib.contextmanager
def _state_run(settings: EdfiSettings, ws: StateCopy) -> Iterator[_StateRun]:
    """The delivery state of the copy `ws`; the copy is published when the block ends without an error
    (after the caller committed), and left to its owner to discard otherwise. Refuses when no build was
    published."""
    con = open_warehouse(ws.work)
    try:
        plan_mod.ensure_state(con)
        _, build_allowed, _ = _latest_build(con)
        run = _StateRun(
            settings,
            con,
            ws,
            plan_mod.read_records(con, "desired"),
            plan_mod.read_records(con, "accepted"),
            build_allowed,
        )
        yield run
        if run.changed:
            con.commit()
    finally:
        con.close()
    if run.changed:
        ws.publish()


def send_pending(settings: EdfiSettings, ws: StateCopy, log: Path) -> int:
    """Send what the last build planned and the API has not accepted yet; 0 when everything was accepted.

    `ws` is a full copy of the live warehouse, held under the run lock by the caller (`pipeline.delivery`).
    """
    with _state_run(settings, ws) as run:
        plan = plan_mod.plan_changes(run.desired, run.accepted, settings.resources)
        allowed = settings.allow_deletes or run.build_allowed
        guard_for(run.con, replace(settings, allow_deletes=allowed)).check(plan, run.accepted)
        if not plan.actions:
            print("nothing to send: the API holds what the last build wants", file=sys.stderr)
            return 0
        delivery = Delivery({r.identity: r for r in run.accepted})
        stopped = _deliver(settings, plan.actions, delivery, log)
        result = {"lastSend": _send_report(delivery, stopped)}
        remaining = run.record("send", list(delivery.accepted.values()), result)
    _print_send(delivery, remaining, stopped, settings)
    return 1 if delivery.failures or stopped else 0


def _send_report(delivery: Delivery, stopped: str | None) -> dict[str, Any]:
    failures = sorted(
        ({k: v for k, v in f.items() if v is not None} for f in delivery.failures), key=canonical_json
    )
    return {"accepted": delivery.done, "failed": len(failures), "failures": failures, "stopped": stopped}


def _print_send(
    delivery: Delivery, remaining: plan_mod.Plan, stopped: str | None, settings: EdfiSettings
) -> None:
    done = ", ".join(
        f"{res} {act} {n}" for res, acts in delivery.done.items() for act, n in acts.items() if n
    )
    print(f"accepted by the API: {done or 'nothing'}", file=sys.stderr)
    for f in delivery.failures[:20]:
        print(
            f"failed: {f['action']} {f['resource']} {f['schoolYear']} group {f['groupId']}: {f['message']}",
            file=sys.stderr,
        )
    if len(delivery.failures) > 20:
        print(f"... {len(delivery.failures) - 20} more failures in summary.json", file=sys.stderr)
    if stopped:
        print(f"send stopped early: {stopped}", file=sys.stderr)
    left = len(remaining.actions)
    print(
        f"{left} change(s) still to send (in {settings.edfi_output}); run `make send` again once fixed"
        if left
        else "the API now holds what the last build wants",
        file=sys.stderr,
    )


# ----------------------------------------------------------------------------------------------- resync


def _fetch_all(client, resource: str, district: int) -> list[dict[str, Any]]:
    """Every record of the district (bounded paging: a page shorter than asked for is the last)."""
    endpoint, out, offset = client.resource(resource), [], 0
    for _ in range(100_000):
        page = endpoint.get(limit=_PAGE, params={"educationOrganizationId": district, "offset": offset})
        out += page
        if len(page) < _PAGE:
            return out
        offset += _PAGE
    raise SendError(f"{resource}: the API kept returning full pages past {offset:,} records")


def _is_ours(row: Record, district: int) -> bool:
    """A cohort this pipeline could have created: the district's, of type Other."""
    p = row.payload
    return p.get("educationOrganizationReference", {}).get("educationOrganizationId") == district and str(
        p.get("cohortTypeDescriptor", "")
    ).casefold().endswith("cohorttypedescriptor#other")


def reconcile(
    api: list[Record], accepted: list[Record], desired: list[Record], district: int
) -> tuple[list[Record], dict[str, int]]:
    """The accepted state as the API holds it: rows the API lost dropped, API records matching a wanted
    record adopted, and the API's records this pipeline could have created but no group wants planned for
    deletion (they enter `accepted` under an `api:` identity, so the plan deletes them)."""
    on_api = {r.natural_key: r for r in api}
    wanted = {r.natural_key: r for r in desired}
    counts = dict.fromkeys(("kept", "dropped", "adopted", "orphans"), 0)
    out: dict[str, Record] = {}
    for r in accepted:
        if r.natural_key in on_api:
            out[r.natural_key] = replace(r, payload=on_api[r.natural_key].payload)
            counts["kept"] += 1
        else:
            counts["dropped"] += 1
    ours = {r.cohort_key for r in desired + accepted if r.resource == COHORTS}
    ours |= {r.cohort_key for r in api if r.resource == COHORTS and _is_ours(r, district)}
    for key, r in on_api.items():
        if key in out:
            continue
        if key in wanted:
            w = wanted[key]
            out[key] = replace(r, group_id=w.group_id, user_id=w.user_id)
            counts["adopted"] += 1
        elif r.cohort_key in ours and (r.resource == ASSOCIATIONS or _is_ours(r, district)):
            out[key] = r
            counts["orphans"] += 1
    return sorted(out.values(), key=lambda r: r.identity), counts


def _api_records(settings: EdfiSettings, years: list[int]) -> list[Record]:
    records = []
    for year in years:
        client = _client(settings, year)
        for resource in RESOURCES:
            for row in _fetch_all(client, resource, settings.district_id):
                label = f"api:{row.get('id', '')}"
                records.append(_as_record(resource, year, row, ("api", label)))
    return records


def resync_state(settings: EdfiSettings, ws: StateCopy) -> int:
    """Reconcile `accepted` with what the API holds; the next `make send` applies the resulting plan.

    `ws` is a full copy of the live warehouse, held under the run lock by the caller (`pipeline.delivery`).
    """
    with _state_run(settings, ws) as run:
        years = sorted(set(settings.school_years or ()) | {r.school_year for r in run.desired + run.accepted})
        try:
            api = _api_records(settings, years)
        except Exception as exc:
            raise SendError(
                f"resync could not read the API at {settings.api_url}: {_http_error(exc)[1]}"
            ) from None
        new_accepted, counts = reconcile(api, run.accepted, run.desired, settings.district_id)
        plan = run.record("resync", new_accepted, {"lastResync": counts})
        guard_for(run.con, settings).check(plan, new_accepted)
    deletes = plan.deletes()
    print(
        f"resync: {counts['kept']} accepted record(s) confirmed, {counts['dropped']} the API no longer holds "
        f"dropped, {counts['adopted']} adopted, {counts['orphans']} record(s) no group wants planned for "
        f"deletion; now to send: {len(plan.actions)} change(s) ({deletes[COHORTS]} cohort and "
        f"{deletes[ASSOCIATIONS]} association deletes). Run `make send` to apply them.",
        file=sys.stderr,
    )
    return 0
