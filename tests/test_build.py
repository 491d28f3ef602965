"""The main job end to end, as `make build` runs it: `python -m pipeline build` on the embedded sample."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import jsonschema
import pytest
from _marts import query, scalar
from _pipeline import run_pipeline

from extract import contract
from pipeline import config
from pipeline.build import export_warning_lines
from pipeline.dbt import drop_previous_models
from pipeline.warehouse import work_path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = PROJECT_ROOT / "edfi" / "schemas"


def run_build(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        "WAREHOUSE": str(tmp_path / "warehouse" / "edreflect.duckdb"),
        "EDFI_OUTPUT": str(tmp_path / "edfi"),
        "GX_DIR": str(tmp_path / "gx"),
        **env,
    }
    return run_pipeline("build", env=full_env)


@pytest.fixture(scope="module")
def first_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    tmp = tmp_path_factory.mktemp("build")
    return tmp, run_build(tmp, DBT_PARSE_CACHE_DIR=str(tmp / "parse-cache"))  # a cold start, as a fresh clone


@pytest.mark.slow
def test_build_on_the_embedded_sample_lands_models_and_exports(first_build) -> None:
    tmp, proc = first_build
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "build succeeded" in proc.stderr
    for line in ("files landed", "rows landed", "rows rejected", "dbt results", "time: total"):
        assert line in proc.stderr, f"the summary lacks {line!r}"

    con = duckdb.connect(str(tmp / "warehouse" / "edreflect.duckdb"), read_only=True)
    try:
        loads = con.execute(
            "select count(*), sum(rows_in_file), sum(rows_landed + rows_rejected) from raw._loads "
            "where load_id = (select max_by(load_id, loaded_at) from raw._loads)"
        ).fetchone()
        marts = con.execute("select count(*) from information_schema.tables where table_schema = 'marts'")
        n_marts = marts.fetchone()[0]
        users = con.execute("select count(*) from marts.dim_users").fetchone()[0]
        raw_users = con.execute("select count(*) from raw.users").fetchone()[0]
    finally:
        con.close()
    assert loads[0] >= len(contract.tables()) and loads[1] == loads[2] and loads[1] > 0
    assert n_marts > 50
    assert users == raw_users > 0  # every user lands in the mart, deleted ones flagged
    # the SQL consumers' read-only copy holds the same build
    snapshot = tmp / "warehouse" / "edreflect.snapshot.duckdb"
    assert scalar(snapshot, "select count(*) from marts.dim_users") == users
    assert snapshot.stat().st_mode & 0o777 == 0o444

    summary = json.loads((tmp / "edfi" / "summary.json").read_text())
    assert summary["educationOrganizationId"] == config.SAMPLE_DISTRICT_ID
    assert summary["counts"]["cohorts"]["POST"] > 0
    assert summary["counts"]["staffCohortAssociations"]["POST"] > 0
    assert any(e["code"] == "identifier_too_long" for e in summary["errors"])

    schemas = {
        "cohorts": json.loads((SCHEMAS / "cohort.schema.json").read_text()),
        "staffCohortAssociations": json.loads((SCHEMAS / "staffCohortAssociation.schema.json").read_text()),
    }
    years = sorted(p.name for p in (tmp / "edfi").iterdir() if p.is_dir())
    assert years and set(years) <= {str(y) for y in config.SAMPLE_SCHOOL_YEARS}
    sent = 0
    for year in years:
        for resource, schema in schemas.items():
            for line in (tmp / "edfi" / year / f"{resource}.jsonl").read_text().splitlines():
                jsonschema.validate(json.loads(line), schema)
                sent += 1
    assert sent == summary["counts"]["cohorts"]["POST"] + summary["counts"]["staffCohortAssociations"]["POST"]


def _python_said(stderr: str) -> list[str]:
    """What of Python's own reached the user: a traceback, a library's warning (dbt's worker once printed
    multiprocessing's "leaked semaphore objects" on every build, and again when a build stopped it)."""
    return [line for line in stderr.splitlines() if re.search(r"Traceback \(|^\S+:\d+: \w*Warning: ", line)]


def _dbt_log(stderr: str) -> Path:
    """The dbt log file the run names (relative paths are from the project folder, where it ran)."""
    named = re.findall(r"(?m)^dbt log: (.+)$", stderr)
    assert named, f"the run does not name dbt's log file:\n{stderr[-3000:]}"
    return PROJECT_ROOT / named[-1].strip()


@pytest.mark.slow
def test_build_output_is_short_and_the_dbt_log_has_every_node(first_build) -> None:
    """The terminal gets one line per stage, the warnings and the summary; dbt's line per node goes to its
    log file, which the run names, beside the warehouse with dbt's target folder."""
    tmp, proc = first_build
    assert proc.returncode == 0, proc.stderr[-4000:]
    lines = proc.stderr.splitlines()
    assert len(lines) < 150, f"{len(lines)} lines of output:\n{proc.stderr[-3000:]}"
    assert not [line for line in lines if re.search(r" START | OK created | PASS ", line)]
    assert not _python_said(proc.stderr)
    for stage in ("load raw", "validate raw", "dbt build", "validate staging", "render Ed-Fi", "publish"):
        assert re.search(rf"(?m)^✓ {stage} ", proc.stderr), f"no progress line for {stage!r}"
    # the warnings (the sample has unmapped group categories) once each, after the last stage's line and
    # before the summary table
    starts = [m.start() for m in re.finditer(r"(?m)^warning: ", proc.stderr)]
    assert starts, "the sample's build warns of its unmapped categories"
    last_stage = max(m.start() for m in re.finditer(r"(?m)^✓ ", proc.stderr))
    table = proc.stderr.index("build summary")
    assert all(last_stage < start < table for start in starts), proc.stderr[-3000:]
    # each warning whole (the terminal wraps it), from its start to the next one's or the table's line
    table_line = proc.stderr.rindex("\n", 0, table)
    warnings = [
        " ".join(proc.stderr[a:b].split()) for a, b in zip(starts, [*starts[1:], table_line], strict=True)
    ]
    assert len(set(warnings)) == len(warnings), f"a warning printed twice:\n{proc.stderr}"

    dbt_log = _dbt_log(proc.stderr)
    warehouse = tmp / "warehouse" / "edreflect.duckdb"
    assert dbt_log == warehouse.with_name("edreflect.duckdb.dbt") / "logs" / "dbt.log"
    text = dbt_log.read_text(encoding="utf-8", errors="replace")
    assert re.search(r"\d+ of \d+ START sql (view|table) model", text)
    assert re.search(r"\d+ of \d+ OK created sql (view|table) model", text)
    assert re.search(r"\d+ of \d+ PASS ", text)
    target = warehouse.with_name("edreflect.duckdb.dbt") / "target"
    for name in ("manifest.json", "run_results.json", "partial_parse.msgpack"):
        assert (target / name).is_file(), f"dbt's target folder lacks {name}"


def test_the_export_warnings_are_one_line_per_reason_with_examples_and_the_count() -> None:
    """400 groups of one unmapped category read as one line (summary.json keeps each); a reason met once
    keeps its record's own line."""
    plc = 'sent without cohortScopeDescriptor: category "PLC" is not mapped to a cohort scope'
    warnings = [
        {"resource": "cohorts", "groupId": f"g{i:03d}", "schoolYear": 2024 + i % 2, "reason": plc}
        for i in range(400)
    ] + [{"resource": "cohorts", "groupId": "g-alone", "schoolYear": 2025, "reason": "sent without a name"}]
    out = Path("/srv/edfi/summary.json")

    lines = export_warning_lines(warnings, out)

    assert lines == [
        f"Ed-Fi cohorts: 400 {plc}; e.g. group g000 (2024), group g001 (2025), group g002 (2024) and 397 "
        f"more (every one in {out})",
        "Ed-Fi cohorts of group g-alone (2025): sent without a name",
    ]


@pytest.mark.slow
def test_second_build_keeps_what_was_never_sent(first_build) -> None:
    """Nothing was sent after the first build, so the second still plans it all, byte for byte the same:
    an unsent change is never lost (the build diffs against what the API accepted, not what it wrote)."""
    tmp, first = first_build
    assert first.returncode == 0, first.stderr[-4000:]
    before = {p.relative_to(tmp / "edfi"): p.read_bytes() for p in (tmp / "edfi").rglob("*") if p.is_file()}

    warehouse = tmp / "warehouse" / "edreflect.duckdb"
    snapshot = tmp / "warehouse" / "edreflect.snapshot.duckdb"
    newest_load = "select max_by(load_id, loaded_at) from raw._loads"
    reader = duckdb.connect(str(warehouse), read_only=True)  # an analyst's SQL client, open all along
    # a consumer of the snapshot who opened it for writing (as root can, despite its read-only mode)
    consumer = duckdb.connect(str(snapshot))
    try:
        first_load = reader.execute(newest_load).fetchone()[0]
        assert consumer.execute(newest_load).fetchone()[0] == first_load
        proc = run_build(tmp, DBT_PARSE_CACHE_DIR=str(tmp / "parse-cache"))
        assert proc.returncode == 0, proc.stderr[-4000:]
        # neither was blocked, and each still sees the delivery it opened, whole
        for con in (reader, consumer):
            assert con.execute(newest_load).fetchone()[0] == first_load
            assert con.execute("select count(*) from marts.dim_users").fetchone()[0] > 0
    finally:
        reader.close()
        consumer.close()
    # a new connection to the snapshot sees the second build, read-only
    second_load = scalar(warehouse, newest_load)
    assert second_load != first_load and scalar(snapshot, newest_load) == second_load
    assert snapshot.stat().st_mode & 0o777 == 0o444
    after = {p.relative_to(tmp / "edfi"): p.read_bytes() for p in (tmp / "edfi").rglob("*") if p.is_file()}
    assert after == before
    summary = json.loads((tmp / "edfi" / "summary.json").read_text())
    assert summary["counts"]["cohorts"]["POST"] > 0 and summary["counts"]["cohorts"]["unchanged"] == 0
    assert not list(tmp.glob("warehouse/*.next*")), "no build copy left behind"
    # dbt's target folder is the same for every build of this warehouse: the second build parses only
    # what changed (dbt says when it cannot, and why)
    # (each build is two dbt invocations: the parse, made ahead by the build's dbt process, then `dbt build`
    # given the parsed manifest; a third would be a parse made again)
    runs = _dbt_log(proc.stderr).read_text(errors="replace").split("Running with dbt=")
    assert len(runs) == 5, "dbt's log should hold the two builds, each parsed apart"
    assert ["Concurrency:" in run for run in runs[1:]] == [False, True, False, True]
    assert "Unable to do partial parsing" in runs[1], "the first build's parse (cold) is not in the log"
    assert not any("Unable to do partial parsing" in run for run in runs[3:]), runs[3][:2000]


def _relations(path: Path) -> set[tuple[str, str]]:
    return set(query(path, "select table_schema, table_name from information_schema.tables"))


def test_a_build_drops_the_last_builds_models_in_its_copy_and_nothing_else(
    first_build, tmp_path: Path
) -> None:
    """dbt builds every model and seed again, so a build's copy of the live warehouse starts without the
    ones the last build's manifest names (pipeline.dbt.drop_previous_models); raw, the delivery state and
    the quality history stay, and dbt on the live file itself (`make dbt`) drops nothing."""
    tmp, first = first_build
    assert first.returncode == 0, first.stderr[-4000:]
    live = tmp_path / "edreflect.duckdb"
    shutil.copy(tmp / "warehouse" / "edreflect.duckdb", live)
    target = tmp / "warehouse" / "edreflect.duckdb.dbt" / "target"
    shutil.copytree(target, tmp_path / "edreflect.duckdb.dbt" / "target")
    nodes = json.loads((target / "manifest.json").read_text())["nodes"].values()
    owned = {(n["schema"], n["alias"]) for n in nodes if n["resource_type"] in ("model", "seed")}
    before = _relations(live)
    assert len(before & owned) > 150

    assert drop_previous_models(config.from_env({"WAREHOUSE": str(live)})) == 0
    assert _relations(live) == before

    copy = work_path(live)
    shutil.copy(live, copy)
    assert drop_previous_models(config.from_env({"WAREHOUSE": str(copy)})) == len(before & owned)
    after = _relations(copy)
    assert after == before - owned
    assert {"raw", "edfi_state", "quality"} <= {schema for schema, _ in after}


def test_the_snapshot_is_published_with_the_run_or_not_at_all(tmp_path: Path, monkeypatch) -> None:
    """The consumers' snapshot follows each published run; a run that cannot write it publishes nothing;
    WAREHOUSE_SNAPSHOT=0 removes the stale one instead of leaving it looking current."""
    from pipeline import warehouse
    from pipeline.warehouse import WarehouseError, snapshot_path, workspace

    live = tmp_path / "edreflect.duckdb"
    snapshot = snapshot_path(live)
    assert snapshot == tmp_path / "edreflect.snapshot.duckdb"

    def run(value: int, *, snapshot_on: bool = True) -> None:
        with workspace(live, copy_all=True, snapshot=snapshot_on) as ws:
            con = duckdb.connect(str(ws.work))
            con.execute("create or replace table t as select ? as v", [value])
            con.close()
            ws.publish()

    run(1)
    assert scalar(live, "select v from t") == scalar(snapshot, "select v from t") == 1

    copy_file = warehouse.copy_file

    def disk_full(src: Path, dst: Path) -> object:  # the disk fills up while the snapshot is written
        if Path(dst).name.startswith(snapshot.name):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return copy_file(src, dst)

    with monkeypatch.context() as m:
        m.setattr(warehouse, "copy_file", disk_full)
        with pytest.raises(WarehouseError, match=r"snapshot .*No space left.*nothing was published"):
            run(2)
    assert scalar(live, "select v from t") == scalar(snapshot, "select v from t") == 1
    run(3, snapshot_on=False)
    assert scalar(live, "select v from t") == 3 and not snapshot.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edreflect.duckdb"]


@pytest.mark.parametrize("size", [0, 4096, 3 * 65536, 3 * 65536 + 123, 100_001])
def test_a_warehouse_copy_is_the_same_bytes_written_directly_or_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    """Copies (the snapshot, the copy `send` works on) are written around the page cache where the file
    system allows it, buffered where it refuses (EINVAL on open) or for a tail that is not a whole block."""
    from pipeline import warehouse

    monkeypatch.setattr(warehouse, "_COPY_CHUNK", 65536)  # several chunks without a large file
    source = tmp_path / "source.duckdb"
    source.write_bytes(os.urandom(size))
    warehouse.copy_file(source, tmp_path / "direct.duckdb")
    assert (tmp_path / "direct.duckdb").read_bytes() == source.read_bytes()

    real_open = os.open

    def refuses_direct(path: object, flags: int, *args: object) -> int:
        if flags & getattr(os, "O_DIRECT", 0):
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        return real_open(path, flags, *args)

    monkeypatch.setattr(warehouse.os, "open", refuses_direct)
    (tmp_path / "buffered.duckdb").write_bytes(b"an older, longer file " * 10_000)
    warehouse.copy_file(source, tmp_path / "buffered.duckdb")
    assert (tmp_path / "buffered.duckdb").read_bytes() == source.read_bytes()


def test_a_real_product_without_district_id_fails_before_loading(tmp_path: Path) -> None:
    proc = run_build(tmp_path, DATA_PRODUCT=str(PROJECT_ROOT / "tests" / "fixtures" / "example_product"))
    assert proc.returncode == 1
    assert "EDFI_DISTRICT_ID is not set" in proc.stderr
    assert not (tmp_path / "warehouse" / "edreflect.duckdb").exists()


def _broken_copy(tmp_path: Path, relative: str, old: str, new: str) -> Path:
    product = tmp_path / "product"
    shutil.copytree(PROJECT_ROOT / "tests" / "fixtures" / "example_product", product)
    path = product / relative
    text = path.read_text(encoding="utf-8-sig")
    assert old in text, f"the fixture no longer holds {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return product


def _user_ids() -> list[str]:
    import csv

    with open(PROJECT_ROOT / "tests/fixtures/example_product/users/users.csv", encoding="utf-8-sig") as fh:
        return [row["_id"] for row in csv.DictReader(fh)]


def test_duplicate_ids_stop_the_build_at_the_raw_layer_and_publish_nothing(tmp_path: Path) -> None:
    first, second = _user_ids()[:2]
    product = _broken_copy(tmp_path, "users/users.csv", second, first)
    proc = run_build(
        tmp_path, DATA_PRODUCT=str(product), EDFI_DISTRICT_ID="3100042", EDFI_SCHOOL_YEARS="2025"
    )
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "raw layer failed validation" in proc.stderr
    assert "users" in proc.stderr and first in proc.stderr
    assert "dbt build" not in proc.stderr, "the layers after raw must not run"
    assert not _python_said(proc.stderr), "the dbt worker stopped before its run says nothing"
    assert not (tmp_path / "edfi").exists(), "a failed run must publish nothing"


@pytest.mark.slow
def test_a_dbt_failure_names_the_node_and_why_and_publishes_nothing(tmp_path: Path) -> None:
    """A model dbt cannot build (here: a time zone DuckDB does not know, which only the analyst marts'
    SQL reads): the build stops at dbt, the message names the failed model, DuckDB's reason and dbt's log,
    with no traceback, and nothing is published."""
    proc = run_build(
        tmp_path,
        DATA_PRODUCT=str(PROJECT_ROOT / "tests" / "fixtures" / "example_product"),
        EDFI_DISTRICT_ID="3100042",
        EDFI_SCHOOL_YEARS="2025",
        DISTRICT_TIMEZONE="Mars/Olympus",
    )
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "dbt build failed" in proc.stderr
    assert re.search(r"model\.edreflect_edfi\.\w+: Runtime Error in model", proc.stderr), proc.stderr[-3000:]
    assert "Mars/Olympus" in proc.stderr
    assert re.search(r"(?m)^✗ dbt build ", proc.stderr), "the dbt stage is not marked as failed"
    assert "Traceback" not in proc.stderr
    log = _dbt_log(proc.stderr)
    assert f"dbt's full log: {log}" in proc.stderr and "Mars/Olympus" in log.read_text(errors="replace")
    assert not (tmp_path / "edfi").exists(), "a failed run must publish nothing"
    # The first run failed: no warehouse is published at all (no raw, no models, no delivery state).
    assert not (tmp_path / "warehouse" / "edreflect.duckdb").exists()
    assert not list((tmp_path / "warehouse").glob("*.next*")), "the build's copy is removed"


@pytest.mark.slow
def test_a_failing_run_changes_nothing(first_build, tmp_path: Path) -> None:
    """From a good build: a truncated delivery and a wrong setting each fail with a clear message and leave
    the warehouse, the Ed-Fi output and the delivery state byte for byte as they were."""
    tmp, first = first_build
    assert first.returncode == 0, first.stderr[-4000:]
    warehouse = tmp / "warehouse" / "edreflect.duckdb"

    def snapshot() -> dict[str, bytes]:
        files = {
            str(p.relative_to(tmp / "edfi")): p.read_bytes() for p in (tmp / "edfi").rglob("*") if p.is_file()
        }
        snapshot = warehouse.with_name("edreflect.snapshot.duckdb")
        return files | {"<warehouse>": warehouse.read_bytes(), "<snapshot>": snapshot.read_bytes()}

    before = snapshot()
    product = tmp_path / "product"
    shutil.copytree(PROJECT_ROOT / "tests" / "fixtures" / "example_product", product)
    groups = product / "users" / "users.groups.csv"
    data = groups.read_bytes()
    groups.write_bytes(data[: len(data) // 2 + 7])  # cut mid-row, as a broken transfer does
    real = {"DATA_PRODUCT": str(product), "EDFI_DISTRICT_ID": "3100042", "EDFI_SCHOOL_YEARS": "2025"}
    proc = run_build(tmp, **real)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "users/users.groups.csv" in proc.stderr and "truncated" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert snapshot() == before

    for name, value, said in (
        ("EDFI_SCHOOL_YEARS", "1999", "EDFI_SCHOOL_YEARS='1999'"),
        ("EDFI_DISTRICT_ID", "99999999999", "EDFI_DISTRICT_ID='99999999999'"),
    ):
        proc = run_build(tmp, **{name: value})
        assert proc.returncode == 1 and said in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert "load raw" not in proc.stderr, "settings are checked before any work"
        assert snapshot() == before
