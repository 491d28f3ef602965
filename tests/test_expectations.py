"""Great Expectations checks at every layer, on a real DuckDB warehouse built by the real loader and dbt.

One warehouse per module (dbt is slow): the contract's example product, loaded, built by dbt (models and
tests) and rendered to Ed-Fi. Each breaking test works on a copy of it, breaks one layer the way real data
would (or forces a bad payload past the models) and checks what validation reports at that layer and with
which severity (the severity policy: README.md), naming the table or model, the check and an example.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from _example_build import built_example

from expectations import dbt_results, validate_layer
from expectations.runner import LAYERS, data_docs_dir
from expectations.sql import Models
from expectations.worker import GxWorker, GxWorkerError
from pipeline import config
from pipeline.dbt import dbt_dir, run_dbt

OTHER_ID = "ffffffffffffffffffffffff"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> config.Settings:
    """The example product loaded, modelled and rendered (shared with test_docs_browser.py)."""
    return built_example(tmp_path_factory, "gx")


@pytest.fixture
def copy(built: config.Settings, tmp_path: Path) -> config.Settings:
    """A private copy of the built warehouse, to break."""
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(built.warehouse))  # dbt (in-process) keeps it open: flush the WAL first
    try:
        con.execute("force checkpoint")
    finally:
        con.close()
    shutil.copy2(built.warehouse, warehouse)
    copied = dataclasses.replace(built, warehouse=warehouse)
    # dbt's folder too: its results describe the copy until a test re-runs dbt, and partial parsing works
    shutil.copytree(dbt_dir(built), dbt_dir(copied), ignore=shutil.ignore_patterns("logs"))
    return copied


def _sql(settings: config.Settings, *statements: str) -> None:
    con = duckdb.connect(str(settings.warehouse))
    try:
        for s in statements:
            con.execute(s)
    finally:
        con.close()


def _failures(report, check: str) -> list:
    return [f for f in report.failures if f.check == check]


def test_clean_example_passes_every_layer(
    built: config.Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """As a build validates: GX's part of each layer in the worker process (the other tests run it here)."""
    gx_dir = tmp_path_factory.mktemp("gx_clean")
    seconds = {}
    worker = GxWorker()
    try:
        reports = [validate_layer(layer, built, gx_dir=gx_dir, gx=worker) for layer in LAYERS]
        worker.finish()  # stored and rendered
    finally:
        worker.close()
    for layer, report in zip(LAYERS, reports, strict=True):
        seconds[layer] = round(report.seconds, 1)
        assert report.errors == 0, report.text()
        assert report.total > 0
        if layer in ("staging", "marts"):  # dbt's results of this load, one finding per test
            assert not [f for f in report.failures if f.check == "dbt_results_present"], report.text()
        if layer != "raw":  # the example product has no rejects and no drift either
            continue
        assert report.warnings == 0, report.text()
        assert report.total >= 87 * 5  # every contract table, several checks each
    print(f"validation seconds on the example product: {seconds}")

    # results are kept: GX's store, the Data Docs page of each layer, and the warehouse summary
    for layer in ("raw", "staging", "marts", "export"):
        assert list((gx_dir / "uncommitted" / "validations" / layer).rglob("*.json")), layer
        assert list((data_docs_dir(gx_dir) / "validations" / layer).rglob("*.html")), layer
    con = duckdb.connect(str(built.warehouse))  # dbt (in-process) keeps it open read-write
    try:
        runs = con.execute(
            "select layer, success, errors from quality.validation_runs order by run_at"
        ).fetchall()
        assert [r[0] for r in runs][-4:] == ["raw", "staging", "marts", "export"]
        assert all(r[1] and r[2] == 0 for r in runs[-4:])
        checked = con.execute(
            "select count(*), count(distinct table_name) from quality.validation_results where layer = 'raw'"
        ).fetchone()
        assert checked[1] == 87 and checked[0] >= 87 * 5
    finally:
        con.close()


def test_duplicate_id_fails_raw(copy: config.Settings, tmp_path: Path) -> None:
    # the second user gets the first user's _id (row counts still agree with the manifest)
    _sql(
        copy,
        """update raw.users set "_id" = (select "_id" from raw.users order by _source_line limit 1)
        where _source_line = (select max(_source_line) from raw.users)""",
    )
    report = validate_layer("raw", copy, gx_dir=tmp_path / "gx")
    assert report.errors == 1, report.text()
    [failure] = _failures(report, "id_unique")
    assert (failure.table, failure.column, failure.failing) == ("users", "_id", 2)
    assert "(lines 2, " in failure.examples  # the duplicated rows, by their physical lines
    text = report.text()
    assert (
        "ERROR   raw | users._id | `_id` identifies one row: no two different rows share it | 2 failing"
        in text
    )


def test_malformed_and_missing_ids_fail_raw(copy: config.Settings, tmp_path: Path) -> None:
    _sql(
        copy,
        """update raw.groups set "_id" = 'ABC' where _source_line = 2""",
        """update raw.users__groups set "_rootId" = null where _source_line = 2""",
    )
    report = validate_layer("raw", copy, gx_dir=tmp_path / "gx")
    [bad] = _failures(report, "id_is_object_id")
    assert bad.table == "groups" and "line 2: ABC" in bad.examples
    [null_root] = _failures(report, "root_id_not_null")
    assert null_root.table == "users.groups" and null_root.failing == 1


def test_row_count_disagreeing_with_manifest_fails_raw(copy: config.Settings, tmp_path: Path) -> None:
    _sql(copy, "delete from raw.groups where _source_line = 3")
    report = validate_layer("raw", copy, gx_dir=tmp_path / "gx")
    [failure] = _failures(report, "rows_match_manifest")
    assert failure.table == "groups" and "raw._loads" in failure.examples
    assert report.errors == 1, report.text()


def test_rejects_are_a_warning_not_an_error(copy: config.Settings, tmp_path: Path) -> None:
    _sql(copy, "update raw._loads set rows_rejected = 2 where table_name = 'users'")
    report = validate_layer("raw", copy, gx_dir=tmp_path / "gx")
    assert report.errors == 0, report.text()
    [warning] = _failures(report, "no_rejects")
    assert (warning.severity, warning.table, warning.failing) == ("warning", "users", 2)
    assert "WARNING raw | users | no record was rejected by the loader | 2 failing" in report.text()


def test_exact_duplicate_rows_are_a_warning(copy: config.Settings, tmp_path: Path) -> None:
    # an at-least-once export: the users.roles file repeats five rows exactly, further down the file
    _sql(
        copy,
        """insert into raw.users__roles select * replace (_source_line + 1000 as _source_line)
        from raw.users__roles order by _source_line limit 5""",
        "update raw._loads set rows_landed = rows_landed + 5 where table_name = 'users.roles'",
    )
    report = validate_layer("raw", copy, gx_dir=tmp_path / "gx")
    assert report.errors == 0, report.text()
    [warning] = _failures(report, "no_exact_duplicates")
    assert (warning.severity, warning.table, warning.failing) == ("warning", "users.roles", 5)
    assert warning.examples.startswith("users/users.roles.csv: lines 2, 1002")


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([], (0, 0, 0)),
        ([("a", None, "x"), ("b", None, "y")], (0, 0, 0)),  # nothing repeats
        ([("a", None, "x"), ("a", None, "x"), ("b", None, "y")], (1, 0, 0)),  # an exact copy
        ([("a", None, "x"), ("a", None, "z")], (0, 2, 0)),  # an id with other content
        ([(None, None, "x"), (None, None, "x"), (None, None, "w")], (1, 0, 0)),  # no ids, one row copied
        ([("a", "p", "x"), ("b", "p", "x"), ("c", "q", "x")], (0, 0, 2)),  # the second key repeats
        ([(None, "p", "x"), ("a", "p", "x")], (0, 0, 2)),  # the second key repeats, one row without an id
    ],
)
def test_the_duplicate_checks_ask_the_keys_first_and_find_what_the_grouping_finds(
    rows: list, expected: tuple
) -> None:
    """The raw duplicate checks group every column only for a table where a key repeats: the answer is
    the full grouping's whatever the rows (exact copies, conflicts, NULL keys, either key)."""
    from expectations import raw

    con = duckdb.connect()
    con.execute('create table t ("_id" varchar, "_parentId" varchar, v varchar, _source_line bigint)')
    for line, row in enumerate(rows, 2):
        con.execute("insert into t values (?, ?, ?, ?)", [*row, line])
    content, keys = ["_id", "_parentId", "v"], [["_id"], ["_parentId"]]
    for asked in (keys, keys[:1], []):
        assert raw._duplicates(con, "t", content, asked) == raw._grouped_duplicates(con, "t", content, asked)
    exact, _, conflicts = raw._duplicates(con, "t", content, keys)
    assert (exact, *(n for n, _ in conflicts)) == expected


def _staging_failures(copy: config.Settings, tmp_path: Path, *models: str) -> list:
    """dbt rebuilds the broken copy's staging `models` with their tests (a file group's tests check all
    its models), then the staging suite: its dbt test findings."""
    run_dbt(["build", "--select", *models, "--exclude-resource-type", "unit_test"], copy, quiet=True)
    report = validate_layer("staging", copy, gx_dir=tmp_path / "gx")
    assert not _failures(report, "dbt_results_present"), report.text()
    return _failures(report, "dbt_test")


def test_contract_violations_in_staging_are_dbt_warnings(copy: config.Settings, tmp_path: Path) -> None:
    _sql(
        copy,
        "update raw.groups set type = 'team' where _source_line = 2",
        "update raw.groups set \"schoolYear\" = 'twenty' where _source_line = 3",
        f"""update raw.users__groups set "_rootId" = '{OTHER_ID}', "_parentId" = '{OTHER_ID}'
        where _source_line = 3""",
        f"""update raw.artifacts set "ownerId" = '{OTHER_ID}' where _source_line = 2""",
    )
    raw = validate_layer("raw", copy, gx_dir=tmp_path / "gx")
    assert raw.errors == 0, raw.text()  # well-formed text: raw has nothing to say

    broken = ("stg_edreflect__groups", "stg_edreflect__users__groups", "stg_edreflect__artifacts")
    failures = _staging_failures(copy, tmp_path, *broken)
    models = {f.table for f in failures}
    assert set(broken) <= models
    assert {f.severity for f in failures} == {"warning"}, [f.line() for f in failures]
    [groups] = [f for f in failures if f.table == "stg_edreflect__groups"]
    assert groups.failing == 2  # dbt's `failures`: the unknown type and the unparseable school year
    if "Got 2 results" not in (groups.examples or ""):  # examples come from the stored failures, once stored
        assert "team" in groups.examples and "twenty" in groups.examples


def test_out_of_range_timestamp_is_a_staging_warning(copy: config.Settings, tmp_path: Path) -> None:
    _sql(copy, "update raw.users set \"createdAt\" = '1970-01-01T00:00:00.000Z' where _source_line = 2")
    run_dbt(["run", "--select", "stg_edreflect__users"], copy, quiet=True)  # staging is a table: rebuild it
    report = validate_layer("staging", copy, gx_dir=tmp_path / "gx")
    [old] = _failures(report, "timestamp_in_range")
    assert (old.table, old.column, old.severity) == ("stg_edreflect__users", "created_at", "warning")
    assert old.examples.startswith("users/users.csv:2 1970-01-01")


def test_volume_drop_against_the_previous_load_is_a_warning(copy: config.Settings, tmp_path: Path) -> None:
    first = validate_layer("marts", copy, gx_dir=tmp_path / "gx")
    assert not _failures(first, "row_volume")
    # as if that validation had been of the previous load; this load lost three users in four
    _sql(
        copy,
        "update quality.table_profiles set load_id = 'previous-load'",
        "delete from marts.dim_users where rowid % 4 <> 0",
    )
    report = validate_layer("marts", copy, gx_dir=tmp_path / "gx")
    [drop] = _failures(report, "row_volume")
    assert (drop.table, drop.severity) == ("dim_users", "warning")
    assert "at load previous-load" in drop.examples


@pytest.mark.parametrize(
    "relation_name",
    ['"whatever"."quality"."conformance_users"', "`quality`.`conformance_users`"],  # DuckDB's, Spark's
)
def test_dbt_results_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, relation_name: str) -> None:
    """Any dbt test: severity from its config, attributed to its model, examples from its stored failures."""
    model = "model.p.stg_edreflect__users"
    manifest = {
        "nodes": {
            model: {"resource_type": "model", "name": "stg_edreflect__users", "schema": "staging"},
            "test.p.contract_conformance_users": {
                "name": "contract_conformance_stg_edreflect__users",
                "attached_node": model,
                "config": {"severity": "warn"},
                "test_metadata": {"name": "contract_conformance", "kwargs": {}},
            },
            "test.p.unique_users_id": {
                "name": "unique_stg_edreflect__users_user_id",
                "attached_node": model,
                "column_name": "user_id",
                "config": {"severity": "ERROR"},
                "test_metadata": {"name": "unique", "kwargs": {"column_name": "user_id"}},
            },
        }
    }
    results = {
        "metadata": {"generated_at": "2999-01-01T00:00:00Z"},
        "results": [
            {
                "unique_id": "test.p.contract_conformance_users",
                "status": "warn",
                "failures": 3,
                "relation_name": relation_name,
            },
            {"unique_id": "test.p.unique_users_id", "status": "pass", "failures": 0},
        ],
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "run_results.json").write_text(json.dumps(results))
    monkeypatch.setattr(dbt_results, "target_dir", lambda settings: tmp_path)
    con = duckdb.connect()
    con.execute("create schema quality")
    con.execute(
        """create table quality.conformance_users as select 'stg_edreflect__users' as model_name,
        'users' as source_table, 'created_at' as column_name, 'does not parse as timestamp' as check_name,
        3::bigint as failing_rows, 'users/users.csv:12 abc' as examples"""
    )
    found = {f.check + (f.column or ""): f for f in dbt_results.findings(Models(con), None, "staging", None)}
    assert found["dbt_results_present"].failing == 0
    warn = found["dbt_test"]
    assert (warn.table, warn.severity, warn.failing) == ("stg_edreflect__users", "warning", 3)
    assert (
        warn.examples == "column created_at: does not parse as timestamp: 3 rows, e.g. users/users.csv:12 abc"
    )
    passed = found["dbt_testuser_id"]
    assert (passed.severity, passed.failing) == ("error", 0)
    assert dbt_results.findings(Models(con), None, "marts", None)[0].failing == 1  # no marts test ran


def _insert_payload(settings: config.Settings, resource: str, group_id: str, user_id, payload: dict) -> None:
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute(
            """insert into edfi_state.pending_payloads
            values ('example-load', ?, 2025, 'POST', 'new', ?, ?, ?, 'x', ?)""",
            [resource, group_id, user_id, json.dumps(payload), json.dumps(payload)],
        )
    finally:
        con.close()


def test_long_cohort_identifier_forced_into_export_fails(copy: config.Settings, tmp_path: Path) -> None:
    long_name = "Instructional Coaches"  # 21 characters: one more than Ed-Fi DS 3.x/4.0 allow
    assert len(long_name) == 21
    _insert_payload(
        copy,
        "cohorts",
        "66d0c3a0e1d2f3a4b50000ff",
        None,
        {
            "cohortIdentifier": long_name,
            "educationOrganizationReference": {"educationOrganizationId": 3100042},
            "cohortTypeDescriptor": "uri://ed-fi.org/CohortTypeDescriptor#Other",
            "cohortScopeDescriptor": "uri://ed-fi.org/CohortScopeDescriptor#PLC",
            "cohortDescription": None,
        },
    )
    _insert_payload(
        copy,
        "staffCohortAssociations",
        "66d0c3a0e1d2f3a4b50000fe",
        "66d0c3a0e1d2f3a4b50000fd",
        {
            "beginDate": "2024-07-01",
            "cohortReference": {"cohortIdentifier": "Never Sent", "educationOrganizationId": 3100042},
            "staffReference": {"staffUniqueId": "S1"},
        },
    )
    report = validate_layer("export", copy, gx_dir=tmp_path / "gx")
    checks = {f.check: f for f in report.failures}
    assert set(checks) == {
        "cohort_identifier_length",
        "cohort_scope_known",
        "no_null_values",
        "association_cohort_sent",
    }, report.text()
    assert checks["cohort_identifier_length"].failing == 1
    assert "66d0c3a0e1d2f3a4b50000ff" in checks["cohort_identifier_length"].examples
    assert "cohortIdentifier is 1-20 characters" in report.text()
    assert "$.cohortDescription" in checks["no_null_values"].examples


def test_export_duplicate_identifier_and_wrong_district(copy: config.Settings, tmp_path: Path) -> None:
    con = duckdb.connect(str(copy.warehouse))
    try:
        ident = con.execute(
            "select payload->>'cohortIdentifier' from edfi_state.pending_payloads "
            "where resource = 'cohorts' limit 1"
        ).fetchone()[0]
    finally:
        con.close()
    _insert_payload(
        copy,
        "cohorts",
        "66d0c3a0e1d2f3a4b50000fc",
        None,
        {
            "cohortIdentifier": ident,
            "educationOrganizationReference": {"educationOrganizationId": 42},
            "cohortTypeDescriptor": "uri://ed-fi.org/CohortTypeDescriptor#Other",
        },
    )
    report = validate_layer("export", copy, gx_dir=tmp_path / "gx")
    checks = {f.check for f in report.failures}
    assert {"cohort_identifier_unique", "education_organization_configured"} <= checks, report.text()


def test_missing_layer_is_reported_not_crashed(copy: config.Settings, tmp_path: Path) -> None:
    _sql(copy, "drop table staging.stg_edreflect__groups__roles")
    report = validate_layer("staging", copy, gx_dir=tmp_path / "gx")
    [missing] = _failures(report, "model_present")
    assert missing.table == "stg_edreflect__groups__roles" and "missing" in missing.examples


def test_old_results_are_pruned(
    copy: config.Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from expectations import runner

    monkeypatch.setattr(runner, "KEEP_RUNS", 1)
    gx_dir = tmp_path / "gx"
    first = validate_layer("raw", copy, gx_dir=gx_dir, data_docs=True)
    second = validate_layer("raw", copy, gx_dir=gx_dir, data_docs=True)
    results = list((gx_dir / "uncommitted" / "validations" / "raw").rglob("*.json"))
    pages = list((data_docs_dir(gx_dir) / "validations" / "raw").rglob("*.html"))
    assert len(results) == 1 and second.run_id in str(results[0])
    assert len(pages) == 1 and second.run_id in str(pages[0]) and first.run_id not in str(pages[0])


def test_scipy_stats_waits_for_its_first_use_and_is_then_the_real_module() -> None:
    """GX imports scipy.stats for expectations no suite uses; `defer_scipy_stats` makes it load on first use
    (a fresh interpreter: the test process has long imported GX)."""
    code = (
        "import sys\n"
        "from expectations.runner import defer_scipy_stats\n"
        "defer_scipy_stats()\n"
        "import great_expectations\n"
        "loaded = 'scipy.stats._stats_py' in sys.modules\n"
        "from scipy import stats\n"
        "print(loaded, round(float(stats.entropy([0.5, 0.5])), 6), 'scipy.stats._stats_py' in sys.modules)\n"
    )
    root = Path(__file__).parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.split() == ["False", "0.693147", "True"], out.stderr


def test_the_gx_worker_imports_gx_without_scipy_stats(copy: config.Settings, tmp_path: Path) -> None:
    """The build's GX worker defers scipy.stats too: its first call (the raw layer's results) imports GX
    without it (it once cost the worker ~1 s of CPU per build)."""
    worker = GxWorker()
    try:
        report = validate_layer("raw", copy, gx_dir=tmp_path / "gx", gx=worker, data_docs=False)
        worker.finish()
        loaded = worker.submit(eval, "sorted(__import__('sys').modules)").result()  # the worker's modules
    finally:
        worker.close()
    assert report.total > 0 and "great_expectations.core.run_identifier" in loaded
    assert "scipy.stats._stats_py" not in loaded


def test_a_gx_failure_in_the_worker_is_raised_by_finish(copy: config.Settings, tmp_path: Path) -> None:
    """The verdicts come from the findings, in this process; GX's stores failing in the worker (here the
    GX folder is a file) surface when the build waits for the worker, as an error saying what failed."""
    not_a_folder = tmp_path / "gx"
    not_a_folder.write_text("a file where the GX folder should be")
    worker = GxWorker()
    try:
        report = validate_layer("raw", copy, gx_dir=not_a_folder, gx=worker, data_docs=False)
        assert report.errors == 0 and report.total > 0, report.text()
        with pytest.raises(GxWorkerError, match="Great Expectations failed: .*gx"):
            worker.finish()
    finally:
        worker.close()
