"""The `engines` part of `make bench`: the same product built on each ENGINE, timed against DuckDB's build
in the same run (issue 14's figures).

BENCH_ENGINES (default `duckdb,postgres,spark`) chooses the engines; DuckDB always runs first, as the
reference. PostgreSQL is a server of the bench's own, started like the tests' (`tests/_postgres.py`:
`initdb`/`pg_ctl` on a free loopback port, stopped afterwards). Spark runs in local mode
(`SPARK_MASTER`, default `local[2]`) from `.venv-spark` (`make spark-venv`; without it the build stops
and says so).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .measure import tests_module
from .products import Product

ENGINES = ("duckdb", "postgres", "spark")
DATABASE = "bench"

Build = Callable[[Product, Path, float, dict[str, str]], dict[str, Any]]


@contextlib.contextmanager
def _engine_env(engine: str) -> Iterator[dict[str, str]]:
    if engine == "postgres":
        pg = tests_module("_postgres")
        with pg.postgres_server() as server:
            server.create_database(DATABASE)
            yield {"ENGINE": "postgres", **server.environ(DATABASE)}
        return
    yield {"ENGINE": engine}


def chosen(raw: str) -> list[str]:
    """The engines of BENCH_ENGINES, DuckDB first (the reference); an unknown name stops the bench."""
    names = [e.strip().lower() for e in raw.split(",") if e.strip()]
    unknown = sorted(set(names) - set(ENGINES))
    if unknown:
        raise SystemExit(f"BENCH_ENGINES={raw!r}: {', '.join(unknown)} is not one of {', '.join(ENGINES)}")
    return ["duckdb", *[e for e in ENGINES if e in names and e != "duckdb"]]


def bench_engines(product: Product, work: Path, timeout: float, engines: list[str], build: Build) -> dict:
    """One build per engine; each row keeps its time, stages and its ratio to DuckDB's."""
    rows: dict[str, dict[str, Any]] = {}
    for engine in engines:
        try:
            with _engine_env(engine) as env:
                rows[engine] = build(product, work, timeout, env)
        except Exception as exc:  # noqa: BLE001 - a server that would not start is this engine's failure
            rows[engine] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    reference = rows.get("duckdb", {})
    for row in rows.values():
        if row.get("ok") and reference.get("ok"):
            row["ratio_to_duckdb"] = row["seconds"] / reference["seconds"]
    return rows


def table(results: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    head = ["product MB", "engine", "status", "build s", "x DuckDB", "peak GiB", "dbt s", "stages (s)"]
    body = []
    for r in results:
        for engine, row in (r.get("engines") or {}).items():
            stages = row.get("stages", {})
            dbt = next((v for k, v in stages.items() if k.startswith("dbt")), None)
            body.append(
                [
                    f"{r['bytes'] / 1e6:.0f}",
                    engine,
                    "ok" if row.get("ok") else f"FAILED: {str(row.get('error', ''))[:120]}",
                    f"{row['seconds']:.1f}" if row.get("ok") else "",
                    f"{row['ratio_to_duckdb']:.2f}" if "ratio_to_duckdb" in row else "",
                    f"{row['peak_bytes'] / 2**30:.2f}" if row.get("peak_bytes") else "",
                    f"{dbt:.1f}" if dbt is not None else "",
                    ", ".join(f"{k} {v:.1f}" for k, v in stages.items()),
                ]
            )
    return head, body
