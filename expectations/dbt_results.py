"""The dbt test results of a layer, read from dbt's own files: one finding per dbt test.

dbt owns the rules on dbt models (generic and singular tests, contracts); this module does not re-run
them. It reads what the last `dbt build` wrote into its target folder (`pipeline.dbt.target_dir`):
`run_results.json` (each test's status, `failures`, message and stored-failures relation) and
`manifest.json` (the test's severity and the model it is about), and turns each test into a finding of
the model's layer, so the Data Docs and `quality.validation_results` show dbt's verdicts per model, with
a few failing rows read back from the relation dbt stored them in, on the engine dbt built on (`Models`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.config import Settings

from .model import ERROR, WARNING, Finding, Rule, join_examples, short
from .sql import Models

RULE = Rule(
    "dbt_test",
    "dbt test passes (the test's own severity: `warn` -> warning)",
    ERROR,
    "dbt's `failures` for the test (for contract_conformance: failing source rows); examples read from the "
    "test's stored failures relation",
)
RESULTS_PRESENT = Rule(
    "dbt_results_present",
    "dbt's test results of this load are available (run_results.json after the load)",
    WARNING,
    "1 when run_results.json is missing, older than the latest load, or holds no test of this layer",
)
EXAMPLE_ROWS = 3  # rows read from a stored failures relation


def target_dir(settings: Settings) -> Path:
    """dbt's target folder for this warehouse, where the build's dbt wrote its results."""
    from pipeline.dbt import target_dir as dbt_target_dir

    return dbt_target_dir(settings)


@dataclass
class DbtTest:
    unique_id: str
    name: str  # the test's node name (generic tests: test + model + column)
    test: str  # the generic test's name (`contract_conformance`, `unique`) or the singular test's name
    model: str  # the model the test is about
    schema: str  # that model's schema = its layer (staging, marts, edfi...)
    column: str | None
    severity: str  # error | warning
    status: str  # pass | warn | fail | error | skipped
    failures: int
    message: str | None
    relation: str | None  # schema.name of the stored failures, when dbt stored them
    sql: str | None = None  # the test's compiled query: re-run for examples when nothing was stored
    members: tuple[str, ...] = ()  # a file group's contract_conformance: the models it checks


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _model_of(node: dict[str, Any], nodes: dict[str, Any]) -> dict[str, Any] | None:
    """The model a test is attached to (generic tests), else the first model it reads (singular)."""
    ids = [node.get("attached_node")] + list((node.get("depends_on") or {}).get("nodes") or [])
    for uid in ids:
        if uid and nodes.get(uid, {}).get("resource_type") in ("model", "seed", "snapshot"):
            return nodes[uid]
    return None


def _relation(name: str | None) -> str | None:
    """`"db"."schema"."table"` -> `"schema"."table"`: the database part names the file dbt built, which a
    build's copy of the warehouse does not share. Spark's `` `schema`.`table` `` likewise (its models are
    read by DuckDB: expectations/sql.py, SparkModels)."""
    if not name:
        return None
    parts = re.findall(r'"((?:[^"]|"")*)"|`((?:[^`]|``)*)`|([^."`]+)', name)
    idents = [a.replace('""', '"') if a else b.replace("``", "`") if b else c for a, b, c in parts]
    return ".".join('"' + p.replace('"', '""') + '"' for p in idents[-2:])


def tests(directory: Path) -> tuple[list[DbtTest], str | None]:
    """Every test of the last dbt invocation in `directory`, and when it ran (ISO, UTC) or None."""
    results = _read(directory / "run_results.json")
    manifest = _read(directory / "manifest.json")
    if not results or not manifest:
        return [], None
    nodes = manifest.get("nodes") or {}
    out: list[DbtTest] = []
    for r in results.get("results") or []:
        uid = r.get("unique_id", "")
        node = nodes.get(uid)
        if not uid.startswith("test.") or not node:
            continue
        model = _model_of(node, nodes)
        if model is None:
            continue
        meta = node.get("test_metadata") or {}
        severity = (
            WARNING if str((node.get("config") or {}).get("severity", "error")).lower() == "warn" else ERROR
        )
        out.append(
            DbtTest(
                unique_id=uid,
                name=node.get("name", uid),
                test=meta.get("name") or node.get("name", uid),
                model=model["name"],
                schema=model.get("schema", ""),
                column=node.get("column_name") or (meta.get("kwargs") or {}).get("column_name"),
                severity=severity,
                status=str(r.get("status", "")),
                failures=int(r.get("failures") or 0),
                message=r.get("message"),
                relation=_relation(r.get("relation_name")),
                sql=r.get("compiled_code"),
                members=tuple(m["model"] for m in (meta.get("kwargs") or {}).get("tables") or ()),
            )
        )
    return out, (results.get("metadata") or {}).get("generated_at")


def failing_rows_text(models: Models, sql: str) -> str | None:
    """What a failed test found, its compiled query run again on `models`: its first rows as a person reads
    them (for `column_rules` and `contract_conformance`: each column and check with its count and
    examples), or None when they cannot be read."""
    return _examples(models, _rerun(sql))


def _examples(models: Models, relation: str) -> str | None:
    """A few rows of a stored failures relation (or of the test's query re-run), as a person reads them."""
    try:
        names, rows = models.query(f"select * from {relation} limit {EXAMPLE_ROWS}")
    except models.errors:
        return None
    if {"column_name", "check_name", "failing_rows", "examples"} <= set(names):  # a group's or model's rules
        shown = []
        for row in rows:
            r = dict(zip(names, row, strict=True))
            n = int(r["failing_rows"] or 0)
            shown.append(
                f"column {r['column_name']}: {r['check_name']}: {n:,} row{'' if n == 1 else 's'}"
                + (f", e.g. {r['examples']}" if r["examples"] else "")
            )
        return "; ".join(shown) or None
    return join_examples(
        [
            ", ".join(f"{n}={short(v)}" for n, v in zip(names, row, strict=True) if v is not None)
            for row in rows
        ]
    )


def findings(models: Models, settings: Settings, schema: str, loaded_at: dt.datetime | None) -> list[Finding]:
    """One finding per dbt test on a model of `schema`, plus whether dbt's results describe this load."""
    directory = target_dir(settings)
    found, ran_at = tests(directory)
    mine = [t for t in found if models.layer_schema(t.schema) == schema]
    stale = None
    if ran_at is None:
        stale = f"no run_results.json and manifest.json in {directory}: run `dbt build`"
    elif loaded_at and dt.datetime.fromisoformat(ran_at.replace("Z", "")) < loaded_at:  # both UTC
        stale = f"dbt's results ({ran_at}) are older than the load ({loaded_at})"
    elif not mine:
        stale = f"the last dbt run ({ran_at}) ran no test on a {schema} model"
    out = [Finding("dbt", RESULTS_PRESENT.check, 1 if stale else 0, 1, examples=stale)]
    for t in sorted(mine, key=lambda t: (t.model, t.name)):
        if t.members:
            out += _member_findings(models, t)
            continue
        failing, examples = 0, None
        if t.status in ("warn", "fail"):
            failing = max(t.failures, 1)
            # a stored failures relation, else the failing test's own query run again (only failing tests:
            # storing every test's failures would cost a table or view per test and build)
            source = _failures_source(t)
            examples = (_examples(models, source) if source else None) or (
                short(t.message) if t.message else None
            )
        elif t.status in ("error", "skipped"):
            failing, examples = 1, _not_run(t)
        out.append(_finding(t, t.model, failing, examples))
    return out


def _failures_source(t: DbtTest) -> str | None:
    """Where a failing test's rows are: its stored failures relation, else its own query, run again."""
    return t.relation or (_rerun(t.sql) if t.sql else None)


def _rerun(sql: str) -> str:
    """A test's compiled query as a relation to read its rows from (run again)."""
    return f"({sql.strip().rstrip(';')}) as failing"


def _not_run(t: DbtTest) -> str:
    if t.status == "error":  # the test's SQL itself failed: dbt has stopped the build already
        return short(t.message or "error")
    return "skipped: an upstream node failed"


def _finding(t: DbtTest, model: str, failing: int, examples: str | None) -> Finding:
    what = f"`{t.test}`" + (f" on {t.column}" if t.column else "")
    return Finding(
        model,
        RULE.check,
        failing,
        0,  # dbt does not say how many rows a test read
        column=t.column,
        file=t.unique_id,
        examples=examples,
        severity=t.severity,
        description=f"dbt test {what} passes",
    )


def _member_findings(models: Models, t: DbtTest) -> list[Finding]:
    """A file group's `contract_conformance` test, as one finding per model it checks (its rows name
    their model), so each staging model shows its own result."""
    failing: dict[str, int] = {}
    source = _failures_source(t) if t.status in ("warn", "fail") else None
    if source:
        try:
            failing = {
                m: int(n or 0)
                for m, n in models.query(
                    f"select model_name, sum(failing_rows) from {source} group by model_name"
                )[1]
            }
        except models.errors:
            failing = {t.model: max(t.failures, 1)}
    out = []
    for member in t.members:
        count, examples = failing.get(member, 0), None
        if t.status in ("error", "skipped"):
            count, examples = 1, _not_run(t)
        elif count and source:
            quoted = member.replace("'", "''")
            examples = _examples(models, f"(select * from {source} where model_name = '{quoted}') as mine")
        out.append(_finding(t, member, count, examples))
    return out
