"""ENGINE=postgres against a real PostgreSQL server (tests/_postgres.py): the embedded sample built on
DuckDB and on PostgreSQL gives the same Ed-Fi files, byte for byte, and the same marts (row counts and a
checksum per column).

The checksums are computed here, in Python, from the rows each engine returns, with one normalisation for
both (floats to 12 significant digits, instants in UTC, booleans as true/false), so that text forms that
differ between engines (`1000.0` and `1000`, `+00` and `-05`) never pass for a difference in the data.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import hashlib
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from _pipeline import run_pipeline
from _postgres import PostgresUnavailable, Server, postgres_server

from extract import contract
from pipeline import config as cfg
from pipeline.engines import dbt_target_args

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATABASE = "edreflect"


# ------------------------------------------------------------------------------------------- settings


def test_engine_defaults_to_duckdb_and_adds_nothing_to_dbt() -> None:
    settings = cfg.from_env({}, command="dbt")
    assert settings.engine == "duckdb" and settings.postgres is None
    assert dbt_target_args(["build"], settings) == []


def test_engine_problems_are_reported_together_naming_each_setting() -> None:
    with pytest.raises(cfg.ConfigError) as err:
        cfg.from_env({"ENGINE": "postgres", "PGPORT": "99999", "EDFI_RESOURCES": "nope"}, command="dbt")
    text = str(err.value)
    assert "PGPORT='99999' is out of range" in text
    assert "ENGINE=postgres needs PGUSER and PGDATABASE" in text
    assert "EDFI_RESOURCES='nope'" in text
    with pytest.raises(cfg.ConfigError) as err:
        env = {"ENGINE": "spark", "SPARK_MASTER": "local[0]", "EDFI_RESOURCES": "nope"}
        cfg.from_env(env, command="build")
    text = str(err.value)
    assert "SPARK_MASTER='local[0]' is not a Spark master URL" in text
    assert "EDFI_RESOURCES='nope'" in text
    with pytest.raises(
        cfg.ConfigError, match=r"ENGINE='oracle' is not an engine: use duckdb .*, postgres .* or spark"
    ):
        cfg.from_env({"ENGINE": "oracle"}, command="build")


def test_postgres_settings_come_from_libpq_variables_and_hide_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE"):  # dbt_target_args exports them for dbt
        monkeypatch.setenv(name, "restored after the test")
    env = {"ENGINE": "Postgres", "PGUSER": "u", "PGDATABASE": "d", "PGPASSWORD": "s3cret-pw"}
    settings = cfg.from_env(env, command="dbt")
    assert settings.engine == "postgres"
    assert settings.postgres == cfg.PostgresConnection("localhost", 5432, "u", "d")
    assert "s3cret-pw" not in repr(settings)
    assert settings.secrets["PGPASSWORD"] == "s3cret-pw"  # blanked in the log like the other secrets
    assert dbt_target_args(["build"], settings) == ["--target", "postgres"]
    assert os.environ["PGUSER"] == "u" and "PGPASSWORD" not in settings.postgres.environ()
    assert dbt_target_args(["build", "--target", "duckdb"], settings) == []  # the caller's choice stands
    assert dbt_target_args(["--version"], settings) == []


def test_raw_table_names_stay_unique_within_postgres_identifier_limit() -> None:
    from pipeline.postgres import IDENTIFIER_LIMIT

    names = [t.key for t in contract.tables()]
    assert len({n[:IDENTIFIER_LIMIT] for n in names}) == len(names)


# ------------------------------------------------------------------------------------------- server


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    try:
        with postgres_server() as srv:
            yield srv
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))


def test_safe_casts_return_null_where_duckdb_try_cast_does(server: Server) -> None:
    """The PL/pgSQL casts that stand in for try_cast accept what DuckDB accepts (edge cases included)."""
    from pipeline.postgres import SAFE_CAST_FUNCTIONS

    server.create_database("casts")
    cases = {
        "bigint": (
            "bigint",
            ["12", " 12 ", "+5", "1.5", "-2.5", "1e3", "12 34", "not a number", "9223372036854775808"],
        ),
        "double": ("double", [" 1.5 ", ".5", "1,5", "0x10", "abc"]),
        "boolean": (
            "boolean",
            ["true", "TRUE", "t", "f", "yes", "no", "y", "n", "1", "0", "on", "tr", " true ", "2"],
        ),
        "date": (
            "date",
            [
                "2024-01-05",
                "2024-1-5",
                "2024-02-30",
                "20240105",
                "Jan 5 2024",
                "01/05/2024",
                "today",
                "2024-01-05T10:00Z",
                "epoch",
                "J2451187",
                "2024-01-05 BC",
            ],
        ),
        "timestamptz": (
            "timestamp with time zone",
            [
                "2024-10-25T20:37:55.047Z",
                "2024-10-25 20:37:55",
                "2024-10-25T20:37:55+02:00",
                "yesterday",
                "now",
                "Oct 25 2024",
                "2024-13-01T00:00Z",
                "2024-10-25T20:37:55z",
                "2024-10-25 20:37:55 America/Chicago",
            ],
        ),
    }
    duck = duckdb.connect()
    duck.execute("set timezone = 'UTC'")
    pg = server.connect("casts")
    try:
        cur = pg.cursor()
        for statement in SAFE_CAST_FUNCTIONS:
            cur.execute(statement)
        cur.execute("set time zone 'UTC'")
        for name, (duck_type, values) in cases.items():
            for value in values:
                want = duck.execute(f"select try_cast(? as {duck_type})", [value]).fetchone()[0]
                cur.execute(f"select edreflect_util.try_cast_{name}(%s)", [value])
                got = cur.fetchone()[0]
                assert _norm(got) == _norm(want), (name, value, got, want)
    finally:
        pg.close()
        duck.close()


# ------------------------------------------------------------------------------------------- builds


def _build(tmp: Path, env: dict[str, str]) -> subprocess.Popen:
    full = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k != "ENGINE"}
    full |= {
        "WAREHOUSE": str(tmp / "warehouse" / "edreflect.duckdb"),
        "EDFI_OUTPUT": str(tmp / "edfi"),
        "GX_DIR": str(tmp / "gx"),
        "LOG_FILE": str(tmp / "edreflect-edfi.log"),
        **env,
    }
    out = open(tmp / "build.out", "w")  # noqa: SIM115 - closed with the process below
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "build"],
        cwd=PROJECT_ROOT,
        env=full,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def _broken_sample(folder: Path) -> Path:
    """The embedded sample with one user's row broken the way vendors break it: a `createdAt` of 1970
    (Great Expectations' own range check warns) and a `hireDate` that does not parse (dbt's
    contract_conformance test warns and stores its failing rows), so both engines have checks to fail."""
    from sample_product import ensure_sample

    product = folder / "product"
    shutil.copytree(ensure_sample(cfg.SAMPLE_DIR, cfg.SAMPLE_EDUCATORS, cfg.SAMPLE_SEED), product)
    users = product / "users" / "users.csv"
    lines = users.read_text(encoding="utf-8").split("\n")
    header = next(csv.reader([lines[0].lstrip("\ufeff")]))
    row = next(csv.reader([lines[1]]))
    row[header.index("createdAt")] = "1970-01-01T00:00:00.000Z"
    row[header.index("hireDate")] = "someday"
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row)
    lines[1] = out.getvalue()
    users.write_text("\n".join(lines), encoding="utf-8")
    return product


@pytest.fixture(scope="module")
def builds(server: Server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The embedded sample, one row broken (`_broken_sample`), built by `python -m pipeline build` on each
    engine, both at once."""
    server.create_database(DATABASE)
    folders = {"duckdb": tmp_path_factory.mktemp("duckdb"), "postgres": tmp_path_factory.mktemp("postgres")}
    product = {
        "DATA_PRODUCT": str(_broken_sample(tmp_path_factory.mktemp("product"))),
        "EDFI_DISTRICT_ID": str(cfg.SAMPLE_DISTRICT_ID),
        "EDFI_SCHOOL_YEARS": ",".join(map(str, cfg.SAMPLE_SCHOOL_YEARS)),
    }
    envs = {"duckdb": product, "postgres": {"ENGINE": "postgres", **product, **server.environ(DATABASE)}}
    procs = {engine: _build(folders[engine], envs[engine]) for engine in folders}
    try:
        for engine, proc in procs.items():
            rc = proc.wait(timeout=600)
            output = (folders[engine] / "build.out").read_text(errors="replace")
            assert rc == 0, f"the {engine} build failed:\n{output[-6000:]}"
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    return folders


@pytest.mark.slow
def test_the_ed_fi_files_are_the_same_byte_for_byte(builds: dict[str, Path]) -> None:
    duck, pg = (_files(builds[e] / "edfi") for e in ("duckdb", "postgres"))
    assert sorted(duck) == sorted(pg)
    assert any(
        name.endswith("cohorts.jsonl") and data for name, data in duck.items()
    )  # not two empty folders
    for name in duck:
        assert duck[name] == pg[name], f"{name} differs between the DuckDB and the PostgreSQL build"


def _assert_same_mart(
    duck: duckdb.DuckDBPyConnection, mart: str, columns: list[str], rows: list[tuple]
) -> None:
    """One mart as another engine built it (its column names and rows) against the DuckDB build's: the same
    row count, columns and checksum per column (`_checksums`)."""
    duck_cur = duck.execute(f'select * from marts."{mart}"')
    duck_columns = [d[0] for d in duck_cur.description]
    duck_sums = _checksums(duck_columns, duck_cur.fetchall())
    sums = _checksums(columns, rows)
    assert sums["rows"] == duck_sums["rows"], f"marts.{mart}: row counts differ"
    assert list(sums) == list(duck_sums), f"marts.{mart}: columns differ"
    for column in duck_columns:
        assert sums[column] == duck_sums[column], f"marts.{mart}.{column} differs"


@pytest.mark.slow
def test_every_mart_has_the_same_rows_on_both_engines(builds: dict[str, Path], server: Server) -> None:
    duck = duckdb.connect(str(builds["duckdb"] / "warehouse" / "edreflect.duckdb"), read_only=True)
    pg = server.connect(DATABASE)
    try:
        marts = [
            t
            for (t,) in duck.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        cur = pg.cursor()
        cur.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        )
        assert [t for (t,) in cur.fetchall()] == marts
        assert len(marts) > 40
        for mart in marts:
            cur.execute(f'select * from marts."{mart}"')
            _assert_same_mart(duck, mart, [d[0] for d in cur.description], cur.fetchall())
    finally:
        pg.close()
        duck.close()


@pytest.mark.slow
def test_every_mart_has_the_same_comments_on_both_engines(builds: dict[str, Path], server: Server) -> None:
    """The YAML descriptions a SQL client shows (persist_docs, written with the create by
    macros/materializations/table.sql; dbt's own for the `_current` views), table and column, are the same
    on PostgreSQL as on DuckDB."""
    duck = duckdb.connect(str(builds["duckdb"] / "warehouse" / "edreflect.duckdb"), read_only=True)
    pg = server.connect(DATABASE)
    try:
        want = duck.execute(
            """select table_name, null, comment from duckdb_tables() where schema_name = 'marts'
               union all
               select view_name, null, comment from duckdb_views() where schema_name = 'marts'
               union all
               select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts'"""
        ).fetchall()
        cur = pg.cursor()
        cur.execute(
            """select c.relname::text, null, obj_description(c.oid, 'pg_class') from pg_class c
               join pg_namespace n on n.oid = c.relnamespace
               where n.nspname = 'marts' and c.relkind in ('r', 'v')
               union all
               select c.relname::text, a.attname::text, col_description(c.oid, a.attnum) from pg_attribute a
               join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
               where n.nspname = 'marts' and c.relkind in ('r', 'v')
               and a.attnum > 0 and not a.attisdropped"""
        )
        got = {(table, column): comment for table, column, comment in cur.fetchall()}
    finally:
        pg.close()
        duck.close()
    assert len(want) > 900 and all(comment for _, _, comment in want)
    assert got == {(table, column): comment for table, column, comment in want}


@pytest.mark.slow
def test_the_postgres_build_keeps_raw_and_the_render_in_duckdb_and_never_logs_the_password(
    builds: dict[str, Path], server: Server
) -> None:
    tmp = builds["postgres"]
    duck = duckdb.connect(str(tmp / "warehouse" / "edreflect.duckdb"), read_only=True)
    pg = server.connect(DATABASE)
    try:
        cur = pg.cursor()
        for table in ("users", "groups", "users__groups", "_loads"):
            cur.execute(f"select count(*) from raw.{table}")
            assert cur.fetchone()[0] == duck.execute(f"select count(*) from raw.{table}").fetchone()[0], table
        schemas = {
            s
            for (s,) in duck.execute("select distinct table_schema from information_schema.tables").fetchall()
        }
        assert {"raw", "edfi", "edfi_state"} <= schemas and "marts" not in schemas
        cur.execute("select nspname from pg_namespace where right(nspname, 6) = '__next'")
        assert cur.fetchall() == [], "a build's schemas are swapped in, none left beside the live ones"
    finally:
        pg.close()
        duck.close()
    output = " ".join((tmp / "build.out").read_text(errors="replace").split())  # the console wraps lines
    assert "copy raw to PostgreSQL" in output and "read edfi from PostgreSQL" in output
    assert "do not run on postgres yet" not in output  # the staging and marts checks ran there
    assert "staging checks (failed/warned/total)" in output and "marts checks (failed/warned/total)" in output
    for log in [tmp / "build.out", tmp / "edreflect-edfi.log", *tmp.glob("warehouse/*.dbt/logs/*")]:
        if log.is_file():
            assert server.password not in log.read_text(errors="replace"), log


def _findings(tmp: Path) -> list[tuple]:
    """The staging and marts checks' results of the build in `tmp` (layer, subject, check, failing, checked,
    examples), in order."""
    duck = duckdb.connect(str(tmp / "warehouse" / "edreflect.duckdb"), read_only=True)
    try:
        return duck.execute(
            """select layer, table_name, coalesce(column_name, ''), check_name, unexpected_count,
                      coalesce(checked, -1), coalesce(examples, '')
               from quality.validation_results where layer in ('staging', 'marts') order by all"""
        ).fetchall()
    finally:
        duck.close()


@pytest.mark.slow
def test_the_staging_and_marts_checks_find_the_same_on_both_engines(builds: dict[str, Path]) -> None:
    """Great Expectations' staging and marts suites on PostgreSQL (the models where dbt built them there)
    find what they find on DuckDB: the same checks, subjects, failing and checked counts, and the same
    examples of the failing rows (the row broken in `_broken_sample` among them)."""
    found = {engine: _findings(tmp) for engine, tmp in builds.items()}
    duck_rows, pg_rows = found["duckdb"], found["postgres"]
    assert len(duck_rows) > 400 and {r[0] for r in duck_rows} == {"staging", "marts"}
    counts = [r[:6] for r in duck_rows]
    assert [r[:6] for r in pg_rows] == counts
    failing = {(r[1], r[2], r[3]): r for r in duck_rows if r[4]}
    old = failing[("stg_edreflect__users", "created_at", "timestamp_in_range")]
    assert old[4] == 1 and old[6].startswith("users/users.csv:2 1970-01-01 00:00:00")
    dbt = failing[("stg_edreflect__users", "", "dbt_test")]
    assert "hire_date" in dbt[6] and "someday" in dbt[6], dbt  # from the stored failures
    assert [r[6] for r in pg_rows] == [r[6] for r in duck_rows]


@pytest.mark.slow
def test_the_delivery_state_is_in_postgres_after_a_build_and_after_a_send(
    builds: dict[str, Path], server: Server
) -> None:
    """SQL consumers of PostgreSQL find the Ed-Fi delivery state beside the models (`edfi_state`): the
    build published the DuckDB file's state with its models, and `make send` (to the Ed-Fi API stand-in)
    and `make resync` copied the new state, `accepted` filled, right after they published the file."""
    from _edfi_api import EdFiApiStandIn

    tmp = builds["postgres"]
    built = _same_state(tmp / "warehouse" / "edreflect.duckdb", server)
    assert built["desired"] > 0 and built["pending_payloads"] > 0 and built["accepted"] == 0, built
    with EdFiApiStandIn() as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k != "ENGINE"}
        env |= {
            "ENGINE": "postgres",
            **server.environ(DATABASE),
            "WAREHOUSE": str(tmp / "warehouse" / "edreflect.duckdb"),
            "EDFI_OUTPUT": str(tmp / "edfi"),
            "LOG_FILE": str(tmp / "send.log"),
            "EDFI_DISTRICT_ID": str(cfg.SAMPLE_DISTRICT_ID),
            "EDFI_SCHOOL_YEARS": ",".join(map(str, cfg.SAMPLE_SCHOOL_YEARS)),
            "EDFI_API_URL": api.base_url,
            "EDFI_CLIENT_ID": api.client_id,
            "EDFI_CLIENT_SECRET": api.client_secret,
            "EDFI_VERIFY_SSL": "false",
        }
        _pipeline("send", env)
        held = sum(
            len(api.records(y, r))
            for y in cfg.SAMPLE_SCHOOL_YEARS
            for r in ("cohorts", "staffCohortAssociations")
        )
        sent = _same_state(tmp / "warehouse" / "edreflect.duckdb", server)
        assert sent["accepted"] == held > 0 and sent["sends"] > built["sends"], (built, sent)
        _pipeline("resync", env)  # the API holds what was sent: the same records, one more run logged
        resynced = _same_state(tmp / "warehouse" / "edreflect.duckdb", server)
        assert resynced["accepted"] == held and resynced["sends"] > sent["sends"], (sent, resynced)
        pg = server.connect(DATABASE)  # a copy lost (or left stale by a failed copy) ...
        try:
            pg.cursor().execute("drop schema edfi_state cascade")
            pg.commit()
        finally:
            pg.close()
        _pipeline("send", env)  # ... is copied again by the next send, even one with nothing to send
    assert _same_state(tmp / "warehouse" / "edreflect.duckdb", server) == resynced


def _pipeline(command: str, env: dict[str, str]) -> None:
    proc = run_pipeline(command, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]


def _nulls_first(row: tuple) -> tuple:
    return tuple((v is not None, v or "") for v in row)


def _same_state(warehouse: Path, server: Server) -> dict[str, int]:
    """Assert PostgreSQL's `edfi_state` holds the DuckDB file's rows (every table and view, every column as
    text); rows per relation."""
    duck = duckdb.connect(str(warehouse), read_only=True)
    pg = server.connect(DATABASE)
    try:
        cur = pg.cursor()
        relations = [
            t
            for (t,) in duck.execute(
                "select table_name from information_schema.tables where table_schema = ? order by 1",
                ["edfi_state"],
            ).fetchall()
        ]
        cur.execute(
            "select table_name from information_schema.tables where table_schema = 'edfi_state' order by 1"
        )
        assert [t for (t,) in cur.fetchall()] == relations
        assert {"accepted", "desired", "pending_payloads", "builds", "sends", "desired_cohorts"} <= set(
            relations
        )
        rows = {}
        for relation in relations:
            columns = [
                c
                for (c,) in duck.execute(
                    """select column_name from information_schema.columns
                       where table_schema = 'edfi_state' and table_name = ? order by ordinal_position""",
                    [relation],
                ).fetchall()
            ]
            text = ", ".join(f'cast("{c}" as varchar)' for c in columns)
            want = sorted(
                duck.execute(f'select {text} from edfi_state."{relation}"').fetchall(), key=_nulls_first
            )
            cur.execute(f'select {text} from edfi_state."{relation}"')
            assert sorted(cur.fetchall(), key=_nulls_first) == want, f"edfi_state.{relation} differs"
            rows[relation] = len(want)
        return rows
    finally:
        pg.close()
        duck.close()


@pytest.mark.slow
def test_a_failed_postgres_build_changes_nothing_there(builds: dict[str, Path], server: Server) -> None:
    """All or nothing on PostgreSQL: a build that fails at dbt (here a time zone only the analyst marts
    read) leaves the live schemas exactly as the last good build left them, and no `__next` schema."""
    before = _pg_fingerprint(server)
    assert {"raw", "staging", "marts", "edfi"} <= set(before), sorted(before)
    tmp = builds["postgres"]
    env = {"ENGINE": "postgres", "DISTRICT_TIMEZONE": "Mars/Olympus", **server.environ(DATABASE)}
    proc = _build(tmp, env)
    try:
        assert proc.wait(timeout=600) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    output = " ".join((tmp / "build.out").read_text(errors="replace").split())
    assert "dbt build failed" in output and "Mars/Olympus" in output
    assert _pg_fingerprint(server) == before


def _pg_fingerprint(server: Server) -> dict[str, dict[str, tuple[int, int]]]:
    """Schema -> relation -> (its oid, its rows) for every schema but PostgreSQL's own: a table or view
    built again, or swapped in, has a new oid even when its rows are the same."""
    pg = server.connect(DATABASE)
    try:
        cur = pg.cursor()
        cur.execute(
            """select n.nspname, c.relname, c.oid::bigint from pg_class c
               join pg_namespace n on n.oid = c.relnamespace
               where c.relkind in ('r', 'v') and n.nspname not in ('pg_catalog', 'information_schema')
                 and n.nspname not like 'pg\\_%' order by 1, 2"""
        )
        found: dict[str, dict[str, tuple[int, int]]] = {}
        for schema, relation, oid in cur.fetchall():
            cur.execute(f'select count(*) from "{schema}"."{relation}"')
            found.setdefault(schema, {})[relation] = (oid, cur.fetchone()[0])
        return found
    finally:
        pg.close()


# ------------------------------------------------------------------------------------------- helpers


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _norm(value: object) -> str:
    """One text form per value, whichever engine returned it."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | decimal.Decimal):
        return format(float(value), ".12g")
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
            return value.isoformat() + "Z"
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _checksums(columns: list[str], rows: list[tuple]) -> dict[str, object]:
    """Row count, and per column: distinct values and an md5 of the sorted normalised values."""
    sums: dict[str, object] = {"rows": len(rows)}
    for i, column in enumerate(columns):
        values = sorted(_norm(row[i]) for row in rows)
        sums[column] = (len(set(values)), hashlib.md5("\n".join(values).encode()).hexdigest())
    return sums
