"""ENGINE=spark: dbt builds on Spark through dbt-spark, in an environment of its own (`.venv-spark`).

dbt-spark turns Spark's ANSI mode off, where a double-quoted name is a string: the models quote names with
`adapter.quote` (backticks on Spark), never `"orgId"` (pipeline/codegen.py).

pyspark cannot live in the main environment (it breaks Great Expectations' imports), so dbt for Spark runs
as a subprocess, `.venv-spark/bin/dbt`, with the arguments, vars and target folder the in-process run
would get and `--target spark` (profiles.yml: `method: session`, pyspark inside dbt's process, the master
from SPARK_MASTER). Its JSON log lines on stdout feed the same progress bar and error report as
`pipeline.dbt` gives DuckDB.

The raw layer: the one loader parses and lands raw in the build's DuckDB copy as always (same manifest,
same rejects); `land_raw` then writes every `raw` table, bookkeeping included, as a Parquet folder,
`<spark dir>/raw/<table>/part-0.parquet`, which the pre-hook of the staging model that reads it registers as
table `raw.<table>` in Spark's catalog (macros/register_spark_raw.sql), so `source()` is dbt's own on every
engine. The
models are Parquet tables under `<spark dir>/tables/<schema>.db/` (Spark's in-memory catalog: nothing
outside that folder, no metastore to keep in step). Staging models are tables there, not views, so the
staging checks can read them after dbt's session has ended (expectations/sql.py, SparkModels). `read_edfi`
reads the `edfi` models' Parquet back into the DuckDB copy, where the render, its state and its checks
stay, with DuckDB's own Parquet reader: no pyspark in this process. The Ed-Fi delivery state lives beside
the models as Parquet too (`write_state`: `<spark dir>/tables/edfi_state.db/`), written at each publish and
after each send or resync; the DuckDB file's copy stays the authoritative one, as on PostgreSQL.

All or nothing: a build writes its own folder, `<warehouse>.dbt/spark-build`, which `publish` renames to
`<warehouse>.dbt/spark` (the last good build's raw and models, readable by Spark or DuckDB) and `discard`
removes.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import textwrap
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import duckdb

from extract.contract import PROJECT_ROOT
from extract.warehouse import open_warehouse, transaction

from .config import Settings

if TYPE_CHECKING:
    from .progress import Stage

RAW_SCHEMA = "raw"
MODELS_SCHEMA = "edfi"
STATE_SCHEMA = "edfi_state"  # edfi.plan.STATE_SCHEMA
SPARK_VENV = PROJECT_ROOT / ".venv-spark"
BUILD_FOLDER = "spark-build"  # a build's Spark folder, beside the live one
LIVE_FOLDER = "spark"


class SparkError(RuntimeError):
    """The Spark side of a run failed; the message names the file or setting and the fix."""


def spark_dir(settings: Settings) -> Path:
    """The Spark folder of this run: the build's own on the build's copy, else the live one."""
    from .dbt import dbt_dir, live_warehouse

    on_copy = live_warehouse(Path(settings.warehouse)) != Path(settings.warehouse)
    return dbt_dir(settings) / (BUILD_FOLDER if on_copy else LIVE_FOLDER)


def raw_dir(settings: Settings) -> Path:
    return spark_dir(settings) / RAW_SCHEMA


def tables_dir(settings: Settings) -> Path:
    return spark_dir(settings) / "tables"


def dbt_executable() -> Path:
    """`.venv-spark/bin/dbt`, or a SparkError that says how to make it."""
    dbt = SPARK_VENV / "bin" / "dbt"
    if not dbt.is_file() or not (SPARK_VENV / ".installed").is_file():
        raise SparkError(
            f"ENGINE=spark needs dbt-spark in its own environment, {SPARK_VENV}, which is missing or was "
            "not fully installed: `make spark-venv` creates it from requirements-spark.lock"
        )
    return dbt


# ------------------------------------------------------------------------------------------- raw


def land_raw(settings: Settings) -> dict[str, int]:
    """Write every table of the DuckDB copy's `raw` schema as `<spark dir>/raw/<table>/part-0.parquet` (a
    folder per table, as Spark lays out a table: dbt registers each as `raw.<table>` before the staging
    model that reads it, macros/register_spark_raw.sql); rows per table. What a killed build left in the
    build's folder goes first, so nothing stale is read."""
    folder = spark_dir(settings)
    shutil.rmtree(folder, ignore_errors=True)
    raw_dir(settings).mkdir(parents=True)
    copied: dict[str, int] = {}
    duck = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        tables = [
            t
            for (t,) in duck.execute(
                """select table_name from duckdb_tables()
                   where database_name = current_database() and schema_name = ? order by 1""",
                [RAW_SCHEMA],
            ).fetchall()
        ]
        for table in tables:
            try:
                copied[table] = _write_table(duck, RAW_SCHEMA, table, raw_dir(settings))
            except duckdb.Error as exc:
                path = raw_dir(settings) / table
                raise SparkError(f"raw.{table}: could not be written as Parquet to {path}: {exc}") from None
    finally:
        duck.close()
    return copied


def _write_table(duck: duckdb.DuckDBPyConnection, schema: str, relation: str, folder: Path) -> int:
    """`schema.relation` of the DuckDB file as Spark lays out a table, `<folder>/<relation>/part-0.parquet`;
    the rows written (COPY's own count: no second scan)."""
    path = folder / relation / "part-0.parquet"
    path.parent.mkdir(parents=True)
    query = f"select * from {schema}.{_q(relation)}"
    return int(duck.execute(f"copy ({query}) to '{_sql_path(path)}' (format parquet)").fetchone()[0])


# ------------------------------------------------------------------------------------------- dbt


def environ(settings: Settings) -> dict[str, str]:
    """The variables profiles.yml's `spark` output reads."""
    return {"SPARK_MASTER": settings.spark_master, "SPARK_DIR": str(spark_dir(settings))}


def run_dbt(
    full: list[str], args: Sequence[str], settings: Settings, log: Path, progress: Stage | None
) -> object:
    """`.venv-spark/bin/dbt <full>` (the arguments `pipeline.dbt.run_dbt` made); raises DbtError naming the
    failed nodes and the log. Returns an object with `results` (each with `status`), like dbtRunner's."""
    from .dbt import NODE_COMMANDS, DbtError, _Watcher, target_dir

    dbt = dbt_executable()
    folder = spark_dir(settings)
    if folder.name != BUILD_FOLDER:
        raise SparkError(
            "ENGINE=spark: dbt runs on Spark within `make build` only, for now (each build reads raw's "
            "Parquet and writes every model into a new folder); `make dbt` and `make docs` on the live "
            "folder are not supported on Spark yet"
        )
    folder.mkdir(parents=True, exist_ok=True)
    silent = progress is not None and bool(args) and args[0] in NODE_COMMANDS
    if silent:
        # dbt's events as JSON on stdout, read here for the bar; the file gets dbt's usual lines
        full = [a for a in full if a not in ("--log-level", "none")]
        full = ["--log-format", "json", "--log-format-file", "text", "--log-level", "debug", *full]
    env = {**os.environ, **environ(settings), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    env.pop("PYSPARK_SUBMIT_ARGS", None)
    watcher = _Watcher(progress if silent else None)
    if progress is not None:
        progress.note("starting Spark and parsing the project")
    # cwd: anything Spark writes beside itself (derby.log, spark-warehouse) stays in the build's folder
    # one pipe for both streams (two would block dbt when the unread one fills): JSON lines are dbt's
    # events, the rest (Spark's own start-up lines) kept for a failure that dbt could not report
    other: collections.deque[str] = collections.deque(maxlen=20)
    with subprocess.Popen(
        [str(dbt), *full],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE if silent else None,
        stderr=subprocess.STDOUT if silent else None,
        text=True,
        errors="replace",
    ) as proc:
        if silent:
            assert proc.stdout is not None
            for line in proc.stdout:
                if not _event(watcher, line):
                    other.append(line.rstrip())
        rc = proc.wait()
    stderr = "\n".join(other)
    results = _run_results(_option_path(full, "--target-path") or target_dir(settings))
    if rc != 0:
        raise DbtError(_failure(args, results, watcher, stderr, log))
    return SimpleNamespace(results=results)


def _option_path(args: Sequence[str], option: str) -> Path | None:
    from .dbt import _option

    return _option(args, option)


def _event(watcher, line: str) -> bool:
    """One JSON log line of dbt, given to the watcher as the event object dbtRunner's callback gets
    (info.name, data...); False when the line is not one."""
    if not line.startswith("{"):
        return False
    try:
        event = json.loads(line, object_hook=lambda d: SimpleNamespace(**d))
    except ValueError:
        return False
    if not isinstance(event, SimpleNamespace) or not hasattr(event, "info"):
        return False
    watcher(event)
    return True


def _run_results(target: Path) -> list[SimpleNamespace]:
    try:
        data = json.loads((Path(target) / "run_results.json").read_text())
    except (OSError, ValueError):
        return []
    return [
        SimpleNamespace(status=r.get("status"), unique_id=r.get("unique_id"), message=r.get("message"))
        for r in data.get("results", [])
    ]


def _failure(args: Sequence[str], results: list, watcher, stderr: str, log: Path) -> str:
    """The failed nodes and why (run_results.json), else dbt's last errors, and where the full log is."""
    from .progress import shown

    failed = [f"{r.unique_id}: {r.message}" for r in results if str(r.status) in {"error", "fail"}]
    if not failed:
        failed = watcher.errors[-5:] or [line for line in stderr.splitlines() if line.strip()][-5:]
    detail = "\n".join(textwrap.indent(str(f).rstrip(), "  ") for f in failed) or "  dbt gave no reason"
    return f"dbt {args[0] if args else ''} failed on Spark:\n{detail}\n(dbt's full log: {shown(log)})"


# ------------------------------------------------------------------------------------------- edfi back


# Parquet as DuckDB reads Spark's files -> the DuckDB type dbt-duckdb gives the same SQL: Spark's length()
# and other integer functions return INT where DuckDB's return BIGINT.
_TO_DUCKDB = {"INTEGER": "BIGINT", "SMALLINT": "BIGINT", "TINYINT": "BIGINT"}


def read_edfi(settings: Settings) -> dict[str, int]:
    """Copy the `edfi` models this build wrote (`<spark dir>/tables/edfi.db/<model>/*.parquet`) into the
    DuckDB copy's `edfi` schema; rows per table. Column names and order are kept, types as dbt-duckdb's."""
    folder = tables_dir(settings) / f"{MODELS_SCHEMA}.db"
    tables = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    if not tables:
        raise SparkError(f"no edfi model was found in {folder}: dbt did not build them on Spark")
    copied: dict[str, int] = {}
    duck = open_warehouse(settings.warehouse)
    try:
        with transaction(duck):
            duck.execute(f"drop schema if exists {MODELS_SCHEMA} cascade")
            duck.execute(f"create schema {MODELS_SCHEMA}")
            for table in tables:
                files = f"{_sql_path(table)}/*.parquet"
                columns = duck.execute(f"describe select * from read_parquet('{files}')").fetchall()
                select = ", ".join(
                    f"cast({_q(name)} as {_TO_DUCKDB[typ]}) as {_q(name)}" if typ in _TO_DUCKDB else _q(name)
                    for name, typ, *_ in columns
                )
                relation = f"{MODELS_SCHEMA}.{_q(table.name)}"
                duck.execute(f"create table {relation} as select {select} from read_parquet('{files}')")
                copied[table.name] = int(duck.execute(f"select count(*) from {relation}").fetchone()[0])
    finally:
        duck.close()
    return copied


# ------------------------------------------------------------------------------------------- publish


def publish(settings: Settings) -> None:
    """The build's Spark folder, with the build's Ed-Fi state written into it, becomes the live one (the
    previous one removed)."""
    build = spark_dir(settings)
    if build.name != BUILD_FOLDER or not build.exists():
        return
    live = build.with_name(LIVE_FOLDER)
    old = build.with_name(LIVE_FOLDER + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if live.exists() and not (build / "tables").exists() and (live / "tables").exists():
        (live / "tables").rename(build / "tables")  # `extract` lands raw only: the models stay
    write_state(settings)
    if live.exists():
        live.rename(old)
    build.rename(live)
    shutil.rmtree(old, ignore_errors=True)


def write_state(settings: Settings) -> dict[str, int]:
    """The DuckDB file's `edfi_state` (its tables and per-resource views) as Parquet beside the models,
    laid out as Spark lays out a table: `<spark dir>/tables/edfi_state.db/<relation>/part-0.parquet`;
    rows per relation. Written beside and renamed in: a reader sees the state before or after, whole. A
    warehouse without the state (never rendered) writes nothing."""
    folder = tables_dir(settings) / f"{STATE_SCHEMA}.db"
    new, old = folder.with_name(folder.name + ".new"), folder.with_name(folder.name + ".old")
    shutil.rmtree(new, ignore_errors=True)
    written: dict[str, int] = {}
    duck = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        relations = [
            r
            for (r,) in duck.execute(
                """select table_name from duckdb_tables()
                   where database_name = current_database() and schema_name = ?
                   union all
                   select view_name from duckdb_views()
                   where database_name = current_database() and schema_name = ? and not internal
                   order by 1""",
                [STATE_SCHEMA, STATE_SCHEMA],
            ).fetchall()
        ]
        for relation in relations:
            written[relation] = _write_table(duck, STATE_SCHEMA, relation, new)
    except (duckdb.Error, OSError) as exc:
        shutil.rmtree(new, ignore_errors=True)
        raise SparkError(
            f"the Ed-Fi state ({settings.warehouse}, schema {STATE_SCHEMA}) could not be written as Parquet "
            f"to {folder}: {str(exc).strip()}"
        ) from None
    finally:
        duck.close()
    if not relations:
        return written
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    new.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return written


def discard(settings: Settings) -> None:
    """A failed build: its Spark folder goes; the live one stays."""
    build = spark_dir(settings)
    if build.name == BUILD_FOLDER:
        shutil.rmtree(build, ignore_errors=True)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
