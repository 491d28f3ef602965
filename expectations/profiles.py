"""Checks across loads that dbt tests do not express: row volume and freshness against the previous load.

Each validation of staging and marts keeps a profile per model (rows, newest `updated_at`) in
`quality.table_profiles`; the next load's validation compares with the newest profile of another load.
A warehouse keeps only published builds (a failed build's copy is discarded), so "the previous load" is
the previous successful one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from .model import WARNING, Finding, Rule

VOLUME_DROP = 0.5  # a model that lost more than half its rows since the previous load
FRESHNESS_DAYS = 7  # newest updated_at this many days older than at the previous load

RULES = (
    Rule(
        "row_volume",
        f"the model kept at least {1 - VOLUME_DROP:.0%} of its rows of the previous load",
        WARNING,
        "rows lost since the previous load's validation (quality.table_profiles) when more than "
        f"{VOLUME_DROP:.0%} were lost, else 0; the first load has nothing to compare with",
    ),
    Rule(
        "updated_at_fresh",
        f"the newest `updated_at` is not older than at the previous load (tolerance {FRESHNESS_DAYS} days)",
        WARNING,
        "1 when the model's newest updated_at is more than "
        f"{FRESHNESS_DAYS} days older than the previous load's: a delivery older than the one already loaded",
    ),
)


@dataclass
class Profile:
    table: str  # the model
    rows: int
    newest_updated_at: dt.datetime | None


def latest_load(con: duckdb.DuckDBPyConnection) -> tuple[str | None, dt.datetime | None]:
    try:
        row = con.execute(
            "select load_id, loaded_at from raw._loads order by loaded_at desc, load_id desc limit 1"
        ).fetchone()
    except duckdb.Error:
        return None, None
    return (row[0], row[1]) if row else (None, None)


def _previous(con: duckdb.DuckDBPyConnection, layer: str, load_id: str | None) -> dict[str, tuple]:
    """The newest profile of each model from another load: (load_id, rows, newest_updated_at)."""
    try:
        rows = con.execute(
            """select table_name, arg_max(load_id, run_at), arg_max(row_count, run_at),
                      arg_max(newest_updated_at, run_at)
               from quality.table_profiles where layer = ? and load_id is distinct from ?
               group by table_name""",
            [layer, load_id],
        ).fetchall()
    except duckdb.CatalogException:  # the first validation of this warehouse
        return {}
    return {r[0]: r[1:] for r in rows}


def findings(
    con: duckdb.DuckDBPyConnection, layer: str, load_id: str | None, profiles: list[Profile], file: dict
) -> list[Finding]:
    """Volume and freshness of each profiled model against the previous load."""
    previous = _previous(con, layer, load_id)
    out: list[Finding] = []
    for p in profiles:
        before = previous.get(p.table)
        lost, volume_ex = 0, None
        if before and before[1] and p.rows < before[1] * (1 - VOLUME_DROP):
            lost = before[1] - p.rows
            volume_ex = f"{p.rows:,} rows, {before[1]:,} at load {before[0]}"
        out.append(Finding(p.table, "row_volume", lost, p.rows, file=file.get(p.table), examples=volume_ex))
        if p.newest_updated_at is None:
            continue
        stale, fresh_ex = 0, None
        if before and before[2] and p.newest_updated_at < before[2] - dt.timedelta(days=FRESHNESS_DAYS):
            stale = 1
            fresh_ex = f"newest {p.newest_updated_at:%Y-%m-%d}, {before[2]:%Y-%m-%d} at load {before[0]}"
        out.append(
            Finding(
                p.table,
                "updated_at_fresh",
                stale,
                1,
                column="updated_at",
                file=file.get(p.table),
                examples=fresh_ex,
            )
        )
    return out
