"""ENGINE=spark in local mode (dbt-spark in `.venv-spark`, made by `make spark-venv`): the embedded sample
built on DuckDB and on Spark gives the same Ed-Fi files, byte for byte, and the same marts (row counts and
a checksum per column, normalised as in tests/test_engine_postgres.py).

The builds take minutes (Spark's start, ~1 s a dbt node in local mode), so they are marked `spark`:
`make test` deselects them (pyproject's addopts), `make test-engines` runs them. The settings tests run in
`make test`.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from test_engine_postgres import _assert_same_mart, _broken_sample, _files, _findings

from pipeline import config as cfg
from pipeline.engines import dbt_target_args, engine_vars

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SPARK_VENV = PROJECT_ROOT / ".venv-spark"


# ------------------------------------------------------------------------------------------- settings


def test_spark_master_defaults_to_local_mode_and_a_bad_one_is_named() -> None:
    settings = cfg.from_env({"ENGINE": "spark"}, command="dbt")
    assert settings.engine == "spark" and settings.spark_master == "local[2]"
    assert dbt_target_args(["build"], settings) == ["--target", "spark"]
    assert engine_vars(settings)["spark_raw_dir"].endswith("/spark/raw")
    for good in ("local", "local[*]", "local[4]", "spark://127.0.0.1:7077", "yarn"):
        assert cfg.from_env({"ENGINE": "spark", "SPARK_MASTER": good}, command="dbt").spark_master == good
    with pytest.raises(cfg.ConfigError, match=r"SPARK_MASTER='local\[0\]' is not a Spark master URL: use"):
        cfg.from_env({"ENGINE": "spark", "SPARK_MASTER": "local[0]"}, command="build")
    # SPARK_MASTER is Spark's only: other engines do not read it
    assert cfg.from_env({"SPARK_MASTER": "nonsense"}, command="dbt").engine == "duckdb"


def test_a_missing_spark_environment_is_named_with_its_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline import spark

    monkeypatch.setattr(spark, "SPARK_VENV", tmp_path / ".venv-spark")
    with pytest.raises(spark.SparkError, match=r"\.venv-spark, which is missing .*`make spark-venv`"):
        spark.dbt_executable()


def _state_rows(warehouse: Path) -> dict[str, list[tuple]]:
    """Every relation of the DuckDB file's `edfi_state`, its rows as text, sorted."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = [
            r
            for (r,) in con.execute(
                """select table_name from duckdb_tables() where schema_name = 'edfi_state' union all
                   select view_name from duckdb_views() where schema_name = 'edfi_state' and not internal"""
            ).fetchall()
        ]
        return {n: sorted(map(repr, con.execute(f"select * from edfi_state.{n}").fetchall())) for n in names}
    finally:
        con.close()


def _parquet_state(spark_folder: Path) -> dict[str, list[tuple]]:
    """The state as written beside Spark's models (`<spark dir>/tables/edfi_state.db/<relation>/`)."""
    con = duckdb.connect()
    try:
        return {
            d.name: sorted(map(repr, con.execute(f"select * from read_parquet('{d}/*.parquet')").fetchall()))
            for d in sorted((spark_folder / "tables" / "edfi_state.db").iterdir())
        }
    finally:
        con.close()


def test_the_delivery_state_is_written_beside_sparks_models_at_publish_and_after_a_send(
    tmp_path: Path,
) -> None:
    """The Ed-Fi state (tables and per-resource views) lands as Parquet beside the live models when a
    build's Spark folder is published (the models of the build kept), and again after a send or resync
    changed the DuckDB file's state; readers never see a half-written folder."""
    from edfi.plan import ensure_state
    from pipeline import engines
    from pipeline.warehouse import work_path

    live = tmp_path / "warehouse" / "edreflect.duckdb"
    live.parent.mkdir()
    work = work_path(live)
    con = duckdb.connect(str(work))
    ensure_state(con)
    con.execute("insert into edfi_state.builds values ('load-1', '2025-01-01 00:00:00', null, '{}')")
    con.close()
    settings = cfg.from_env({"ENGINE": "spark", "WAREHOUSE": str(live)}, command="dbt")
    on_copy = dataclasses.replace(settings, warehouse=work)
    build = live.with_name(live.name + ".dbt") / "spark-build"
    (build / "tables" / "marts.db" / "dim_users").mkdir(parents=True)  # what dbt wrote on Spark

    engines.publish(on_copy)
    spark_live = build.with_name("spark")
    assert not build.exists() and (spark_live / "tables" / "marts.db" / "dim_users").is_dir()
    assert _parquet_state(spark_live) == _state_rows(work)
    assert {"accepted", "desired", "pending_payloads", "builds", "sends", "desired_cohorts"} <= set(
        _parquet_state(spark_live)
    )

    work.rename(live)  # the run published the DuckDB file; then a send changed its state
    con = duckdb.connect(str(live))
    con.execute("insert into edfi_state.sends values ('send-1', 'send', '2025-01-02 00:00:00', '{}')")
    con.close()
    engines.after_state_change(settings)
    assert _parquet_state(spark_live)["sends"] == _state_rows(live)["sends"] != []
    assert sorted(p.name for p in (spark_live / "tables").iterdir()) == ["edfi_state.db", "marts.db"]


# ------------------------------------------------------------------------------------------- builds


def _build(tmp: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "SPARK")) and k != "ENGINE"}
    full |= {
        "WAREHOUSE": str(tmp / "warehouse" / "edreflect.duckdb"),
        "EDFI_OUTPUT": str(tmp / "edfi"),
        "GX_DIR": str(tmp / "gx"),
        "LOG_FILE": str(tmp / "edreflect-edfi.log"),
        **env,
    }
    with open(tmp / "build.out", "w") as out:
        return subprocess.run(
            [sys.executable, "-m", "pipeline", "build"],
            cwd=PROJECT_ROOT,
            env=full,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=1800,
            check=False,
        )


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """The embedded sample, one row broken (tests/test_engine_postgres.py, `_broken_sample`), built by
    `python -m pipeline build` on DuckDB, then on Spark (one at a time: Spark in local mode takes both
    cores)."""
    if not (SPARK_VENV / ".installed").is_file():
        subprocess.run(["make", "spark-venv"], cwd=PROJECT_ROOT, check=True, timeout=1800)
    folders = {"duckdb": tmp_path_factory.mktemp("duckdb"), "spark": tmp_path_factory.mktemp("spark")}
    product = {
        "DATA_PRODUCT": str(_broken_sample(tmp_path_factory.mktemp("product"))),
        "EDFI_DISTRICT_ID": str(cfg.SAMPLE_DISTRICT_ID),
        "EDFI_SCHOOL_YEARS": ",".join(map(str, cfg.SAMPLE_SCHOOL_YEARS)),
    }
    for engine, env in (("duckdb", product), ("spark", {"ENGINE": "spark", **product})):
        done = _build(folders[engine], env)
        output = (folders[engine] / "build.out").read_text(errors="replace")
        assert done.returncode == 0, f"the {engine} build failed:\n{output[-6000:]}"
    yield folders


@pytest.mark.spark
@pytest.mark.timeout(3600)
def test_the_ed_fi_files_are_the_same_byte_for_byte(builds: dict[str, Path]) -> None:
    duck, spark = (_files(builds[e] / "edfi") for e in ("duckdb", "spark"))
    assert sorted(duck) == sorted(spark)
    assert any(name.endswith("cohorts.jsonl") and data for name, data in duck.items())
    for name in duck:
        assert duck[name] == spark[name], f"{name} differs between the DuckDB and the Spark build"


@pytest.mark.spark
@pytest.mark.timeout(3600)
def test_the_delivery_state_lives_beside_the_models_spark_built(builds: dict[str, Path]) -> None:
    warehouse = builds["spark"] / "warehouse" / "edreflect.duckdb"
    state = _state_rows(warehouse)
    assert state["desired"] and state["pending_payloads"] and state["builds"]
    assert _parquet_state(warehouse.with_name("edreflect.duckdb.dbt") / "spark") == state


def _spark_marts(folder: Path) -> Path:
    return folder / "warehouse" / "edreflect.duckdb.dbt" / "spark" / "tables" / "marts.db"


@pytest.mark.spark
@pytest.mark.timeout(3600)
def test_every_mart_has_the_same_rows_on_both_engines(builds: dict[str, Path]) -> None:
    """The marts Spark wrote (Parquet, read here with DuckDB) against the DuckDB build's."""
    duck = duckdb.connect(str(builds["duckdb"] / "warehouse" / "edreflect.duckdb"), read_only=True)
    reader = duckdb.connect()
    try:
        marts = [
            t
            for (t,) in duck.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        folder = _spark_marts(builds["spark"])
        assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == marts
        assert len(marts) > 40
        for mart in marts:
            spark_cur = reader.execute(f"select * from read_parquet('{folder / mart}/*.parquet')")
            _assert_same_mart(duck, mart, [d[0] for d in spark_cur.description], spark_cur.fetchall())
    finally:
        reader.close()
        duck.close()


@pytest.mark.spark
@pytest.mark.timeout(3600)
def test_the_spark_build_keeps_raw_and_the_render_in_duckdb(builds: dict[str, Path]) -> None:
    tmp = builds["spark"]
    duck = duckdb.connect(str(tmp / "warehouse" / "edreflect.duckdb"), read_only=True)
    try:
        raw = tmp / "warehouse" / "edreflect.duckdb.dbt" / "spark" / "raw"
        for table in ("users", "groups", "users__groups", "_loads"):
            files = f"{raw}/{table}/*.parquet"
            parquet = duck.execute(f"select count(*) from read_parquet('{files}')").fetchone()[0]
            assert parquet == duck.execute(f"select count(*) from raw.{table}").fetchone()[0], table
        schemas = {
            s
            for (s,) in duck.execute("select distinct table_schema from information_schema.tables").fetchall()
        }
        assert {"raw", "edfi", "edfi_state"} <= schemas and "marts" not in schemas
    finally:
        duck.close()
    assert not (tmp / "warehouse" / "edreflect.duckdb.dbt" / "spark-build").exists()
    # dbt read raw as the tables it registered in Spark's catalog, through its own source()
    compiled = tmp / "warehouse" / "edreflect.duckdb.dbt" / "target" / "compiled"
    (users,) = compiled.rglob("stg_edreflect__users.sql")
    sql = users.read_text(encoding="utf-8")
    assert re.search(r"\braw`?\.`?users\b", sql) and "parquet" not in sql.lower(), sql[:2000]
    output = " ".join((tmp / "build.out").read_text(errors="replace").split())  # the console wraps lines
    assert "write raw as Parquet for Spark" in output and "read edfi from Spark" in output
    assert "do not run on spark yet" not in output  # the staging and marts checks ran on Spark's models
    assert "staging checks (failed/warned/total)" in output and "marts checks (failed/warned/total)" in output
    assert "Traceback" not in output


@pytest.mark.spark
@pytest.mark.timeout(3600)
def test_the_staging_and_marts_checks_find_the_same_on_both_engines(builds: dict[str, Path]) -> None:
    """Great Expectations' staging and marts suites on the models Spark built (their Parquet files, read by
    DuckDB: expectations/sql.py, SparkModels) find what they find on DuckDB: the same checks, subjects,
    failing and checked counts and examples (the row broken in `_broken_sample` among them, the dbt
    test's example from the failing rows Spark stored)."""
    found = {engine: _findings(tmp) for engine, tmp in builds.items()}
    duck_rows, spark_rows = found["duckdb"], found["spark"]
    assert len(duck_rows) > 400 and {r[0] for r in duck_rows} == {"staging", "marts"}
    assert [r[:6] for r in spark_rows] == [r[:6] for r in duck_rows]
    failing = {(r[1], r[2], r[3]): r for r in spark_rows if r[4]}
    old = failing[("stg_edreflect__users", "created_at", "timestamp_in_range")]
    assert old[4] == 1 and old[6].startswith("users/users.csv:2 1970-01-01 00:00:00")
    dbt = failing[("stg_edreflect__users", "", "dbt_test")]
    assert "hire_date" in dbt[6] and "someday" in dbt[6], dbt
    assert [r[6] for r in spark_rows] == [r[6] for r in duck_rows]
