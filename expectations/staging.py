"""Staging layer suite: what dbt's tests on the staging models do not express, and their results.

dbt owns the rules on the staging models (`contract_conformance`: values parse, required columns filled,
enumerations, references, orphans): this suite reads their results (`dbt_results`). It adds, per model
(`staging.stg_edreflect__<key>`, names from `pipeline.codegen`), what a dbt test does not say: the model
exists, its timestamps, dates and school years fall in plausible ranges, and its volume and newest
`updated_at` against the previous load (`profiles`). One query per model reads it once, where dbt
built it (`Models`: the DuckDB warehouse, or PostgreSQL); the previous loads' profiles stay in DuckDB.
"""

from __future__ import annotations

import duckdb

from extract import contract
from extract.contract import Table
from pipeline import codegen
from pipeline.config import Settings

from . import dbt_results, profiles
from .model import ERROR, WARNING, Finding, Rule, join_examples
from .sql import Models, lit, q

SCHEMA = "staging"
TIMESTAMP_RANGE = ("2000-01-01", "2100-01-01")  # platform events: created, updated, observed...
DATE_RANGE = ("1900-01-01", "2100-01-01")  # calendar dates (hire dates can be old)
SCHOOL_YEAR_RANGE = (2000, 2100)

RULES = (
    Rule(
        "model_present", "the staging model exists", ERROR, "1 when `staging.stg_edreflect__<key>` is missing"
    ),
    Rule(
        "timestamp_in_range",
        f"timestamps fall in {TIMESTAMP_RANGE[0]} .. {TIMESTAMP_RANGE[1]}, "
        f"dates in {DATE_RANGE[0]} .. {DATE_RANGE[1]}",
        WARNING,
        "rows whose timestamp or date lies outside the range (examples: file:line value)",
    ),
    Rule(
        "school_year_in_range",
        f"school years are between {SCHOOL_YEAR_RANGE[0]} and {SCHOOL_YEAR_RANGE[1]}",
        WARNING,
        "rows whose school_year lies outside the range (examples: file:line value)",
    ),
    *profiles.RULES,
    dbt_results.RULE,
    dbt_results.RESULTS_PRESENT,
)


def model_relation(t: Table) -> str:
    return f"{SCHEMA}.{codegen.model_name(t)}"


def _model_findings(models: Models, t: Table, present: set[str]) -> tuple[list[Finding], profiles.Profile]:
    """The range checks and the profile (rows, newest updated_at) of one model, in one scan of it."""
    model = codegen.model_name(t)
    at = "s.source_file || ':' || s.source_line::varchar || ' '"
    checks: list[tuple[str, str, str, str]] = []  # (check, column, failing condition, example)
    for sc in codegen.staged_columns(t):
        col, name = sc.column, sc.name
        if name not in present:
            continue
        s = f"s.{q(name)}"
        if col.type in ("timestamp", "date"):
            lo, hi = TIMESTAMP_RANGE if col.type == "timestamp" else DATE_RANGE
            cast = "timestamp with time zone" if col.type == "timestamp" else "date"
            cond = f"({s} < cast({lit(lo)} as {cast}) or {s} >= cast({lit(hi)} as {cast}))"
            checks.append(("timestamp_in_range", name, cond, f"{at} || {s}::varchar"))
        if col.name == "schoolYear" and col.type == "integer":
            lo_y, hi_y = SCHOOL_YEAR_RANGE
            checks.append(
                ("school_year_in_range", name, f"({s} < {lo_y} or {s} > {hi_y})", f"{at} || {s}::varchar")
            )
    newest = "max(s.updated_at)::timestamp" if "updated_at" in present else "null::timestamp"
    select = ["count(*)", newest]
    for _, _, cond, example in checks:
        select += [f"count(*) filter (where {cond})", models.examples_sql(example, "s.source_line", cond)]
    res = models.fetchone(f"select {', '.join(select)} from {models.relation(SCHEMA, model)} as s")
    rows = int(res[0])
    found = [
        Finding(
            model,
            check,
            int(res[2 + 2 * i]),
            rows,
            column=name,
            file=t.relative_path,
            examples=join_examples(res[3 + 2 * i]),
        )
        for i, (check, name, _, _) in enumerate(checks)
    ]
    return found, profiles.Profile(model, rows, res[1])


def collect(
    con: duckdb.DuckDBPyConnection, settings: Settings, models: Models | None = None
) -> tuple[list[Finding], dict[str, object]]:
    """The layer's findings: `con` is the DuckDB warehouse (loads, profiles), `models` where dbt built the
    models (default: `con` itself)."""
    models = models or Models(con)
    have = models.relations(SCHEMA)
    cols = models.columns(SCHEMA)
    load_id, loaded_at = profiles.latest_load(con)
    findings: list[Finding] = []
    measured: list[profiles.Profile] = []
    files: dict[str, str] = {}
    for t in contract.tables():
        rel = model_relation(t)
        model = codegen.model_name(t)
        files[model] = t.relative_path
        if rel not in have:
            findings.append(
                Finding(model, "model_present", 1, 1, file=t.relative_path, examples=f"{rel} is missing")
            )
            continue
        findings.append(Finding(model, "model_present", 0, 1, file=t.relative_path))
        found, profile = _model_findings(models, t, cols.get(model, set()))
        findings += found
        measured.append(profile)
    findings += profiles.findings(con, SCHEMA, load_id, measured, files)
    findings += dbt_results.findings(models, settings, SCHEMA, loaded_at)
    return findings, {"load_id": load_id, "profiles": measured}
