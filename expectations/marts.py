"""Marts layer suite: the results of dbt's tests on the marts, and what they do not express.

dbt owns the rules on the marts (model contracts with primary keys, checked as each mart is built, and the
singular tests under tests/dbt/marts): this suite reads their results (`dbt_results`) instead of
re-running them. It adds, per mart (the models dbt's manifest places in the `marts` schema, else the
tables found there), that the mart exists and its volume and newest `updated_at` against the previous
load (`profiles`). The marts are read where dbt built them (`Models`: DuckDB, or PostgreSQL).
"""

from __future__ import annotations

import duckdb

from pipeline.config import Settings

from . import dbt_results, profiles
from .model import ERROR, Finding, Rule
from .sql import Models

SCHEMA = "marts"

RULES = (
    Rule("model_present", "the mart exists", ERROR, "1 when `marts.<model>` is missing"),
    *profiles.RULES,
    dbt_results.RULE,
    dbt_results.RESULTS_PRESENT,
)


def mart_models(models: Models, settings: Settings) -> dict[str, str]:
    """Each mart and the file that defines it: from dbt's manifest, else the tables of the schema."""
    from pipeline.dbt import manifest_nodes
    found = {
        n["name"]: n.get("original_file_path") or ""
        for n in manifest_nodes(settings).values()
        if n.get("resource_type") == "model" and models.layer_schema(n.get("schema") or "") == SCHEMA
    }
    if found:
        return dict(sorted(found.items()))
    return {rel.split(".", 1)[1]: "" for rel in sorted(models.relations(SCHEMA))}


def collect(
    con: duckdb.DuckDBPyConnection, settings: Settings, models: Models | None = None
) -> tuple[list[Finding], dict[str, object]]:
    """The layer's findings: `con` is the DuckDB warehouse (loads, profiles), `models` where dbt built the
    marts (default: `con` itself)."""
    models = models or Models(con)
    have = models.relations(SCHEMA)
    load_id, loaded_at = profiles.latest_load(con)
    columns = models.columns(SCHEMA)
    findings: list[Finding] = []
    measured: list[profiles.Profile] = []
    files = mart_models(models, settings)
    for model, file in files.items():
        rel = f"{SCHEMA}.{model}"
        if rel not in have:
            findings.append(Finding(model, "model_present", 1, 1, file=file, examples=f"{rel} is missing"))
            continue
        findings.append(Finding(model, "model_present", 0, 1, file=file))
        newest = (
            "max(updated_at)::timestamp" if "updated_at" in columns.get(model, set()) else "null::timestamp"
        )
        rows, latest = models.fetchone(f"select count(*), {newest} from {models.relation(SCHEMA, model)}")
        measured.append(profiles.Profile(model, int(rows), latest))
    findings += profiles.findings(con, SCHEMA, load_id, measured, files)
    findings += dbt_results.findings(models, settings, SCHEMA, loaded_at)
    return findings, {"load_id": load_id, "profiles": measured}
