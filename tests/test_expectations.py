"""Great Expectations checks at every layer, on a real DuckDB warehouse built by the real loader and dbt.

One warehouse per module (dbt is slow): the contract's example product, loaded, built by dbt and
rendered to Ed-Fi. Each breaking test works on a copy of it, breaks one layer the way real data would
(or forces a bad payload past the models) and checks that validation fails at that layer, naming the
table, the expectation and an example.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from _gx_warehouse import built_example

from expectations import validate_layer
from expectations.runner import data_docs_dir
from extract import config

OTHER_ID = "ffffffffffffffffffffffff"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> config.Settings:
    """The example product loaded, modelled and rendered (shared with test_docs_browser.py)."""
    return built_example(tmp_path_factory.getbasetemp() / "gx_example")


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
    return dataclasses.replace(built, warehouse=warehouse)


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
    gx_dir = tmp_path_factory.mktemp("gx_clean")
    seconds = {}
    for layer in ("raw", "staging", "marts", "export"):
        report = validate_layer(layer, built, gx_dir=gx_dir)
        seconds[layer] = round(report.seconds, 1)
        assert report.errors == 0, report.text()
        assert report.total > 0
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
    assert "raw | users._id | `_id` is unique in the table | 2 failing" in text


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


def test_bad_enumeration_and_orphan_fail_staging_not_raw(copy: config.Settings, tmp_path: Path) -> None:
    _sql(
        copy,
        "update raw.groups set type = 'team' where _source_line = 2",
        f"""update raw.users__groups set "_rootId" = '{OTHER_ID}', "_parentId" = '{OTHER_ID}'
        where _source_line = 3""",
    )
    raw = validate_layer("raw", copy, gx_dir=tmp_path / "gx")
    assert raw.errors == 0, raw.text()  # well-formed text: raw has nothing to say

    report = validate_layer("staging", copy, gx_dir=tmp_path / "gx")
    [enum] = _failures(report, "enum_in_set")
    assert (enum.table, enum.column, enum.failing) == ("groups", "type", 1)
    assert enum.examples == "line 2: team"
    orphans = {
        (f.table, f.column) for f in _failures(report, "root_exists") + _failures(report, "parent_exists")
    }
    assert orphans == {("users.groups", "root_id"), ("users.groups", "parent_id")}
    text = report.text()
    assert "staging | groups.type | enumerations hold one of their values" in text
    assert (
        "staging | users.groups.root_id | every child row's root_id is a document of its collection" in text
    )
    assert OTHER_ID in text


def test_unparseable_values_fail_staging(copy: config.Settings, tmp_path: Path) -> None:
    _sql(
        copy,
        "update raw.groups set \"schoolYear\" = 'twenty' where _source_line = 2",
        "update raw.users set \"createdAt\" = '1970-01-01T00:00:00.000Z' where _source_line = 2",
    )
    report = validate_layer("staging", copy, gx_dir=tmp_path / "gx")
    [parse] = _failures(report, "values_parse")
    assert (parse.table, parse.column, parse.examples) == ("groups", "school_year", "line 2: twenty")
    [old] = _failures(report, "timestamp_in_range")
    assert (old.table, old.column) == ("users", "created_at")


def test_marts_keys_and_indicator_hierarchy(copy: config.Settings, tmp_path: Path) -> None:
    _sql(
        copy,
        "insert into marts.dim_users select * from marts.dim_users limit 1",
        "update marts.dim_rubric_indicators set level = 5 where level = 4",
    )
    report = validate_layer("marts", copy, gx_dir=tmp_path / "gx")
    dup = {(f.table, f.column): f.failing for f in _failures(report, "unique")}
    assert dup[("dim_users", "user_id")] == 2
    [level] = _failures(report, "indicator_level_in_range")
    assert level.table == "dim_rubric_indicators" and "(level 5)" in level.examples
    # the level-4 indicator's parent is on level 3, no longer one level up
    assert _failures(report, "indicator_parent_present")
    assert report.errors >= 3


def test_relationship_from_marts_yaml(copy: config.Settings, tmp_path: Path) -> None:
    _sql(
        copy,
        f"update marts.dim_rubric_proficiency_levels set rubric_id = '{OTHER_ID}' "
        "where position_in_parent = 0",
    )
    report = validate_layer("marts", copy, gx_dir=tmp_path / "gx")
    rel = [f for f in _failures(report, "relationship") if f.table == "dim_rubric_proficiency_levels"]
    assert rel and rel[0].column == "rubric_id" and OTHER_ID in rel[0].examples


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
    _sql(copy, "drop view staging.stg_edreflect__groups__roles")
    report = validate_layer("staging", copy, gx_dir=tmp_path / "gx")
    [missing] = _failures(report, "model_present")
    assert missing.table == "groups.roles" and "missing" in missing.examples


def test_old_results_are_pruned(
    copy: config.Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from expectations import runner

    monkeypatch.setattr(runner, "KEEP_RUNS", 1)
    gx_dir = tmp_path / "gx"
    first = validate_layer("raw", copy, gx_dir=gx_dir)
    second = validate_layer("raw", copy, gx_dir=gx_dir)
    results = list((gx_dir / "uncommitted" / "validations" / "raw").rglob("*.json"))
    pages = list((data_docs_dir(gx_dir) / "validations" / "raw").rglob("*.html"))
    assert len(results) == 1 and second.run_id in str(results[0])
    assert len(pages) == 1 and second.run_id in str(pages[0]) and first.run_id not in str(pages[0])


def test_dangling_reference_fails_staging(copy: config.Settings, tmp_path: Path) -> None:
    _sql(
        copy,
        f"""update raw.artifacts set "ownerId" = '{OTHER_ID}' where _source_line = 2""",
        f"""update raw.evidences__indicators set "indicatorId" = '{OTHER_ID}' where _source_line = 2""",
    )
    report = validate_layer("staging", copy, gx_dir=tmp_path / "gx")
    dangling = {(f.table, f.column): f.examples for f in _failures(report, "reference_exists")}
    assert dangling == {
        ("artifacts", "owner_id"): f"line 2: {OTHER_ID}",
        ("evidences.indicators", "indicator_id"): f"line 2: {OTHER_ID}",  # looked up in all four levels
    }, report.text()
