"""The intermediate and marts layers, built by real dbt on a real DuckDB from the contract's example product.

What an analyst relies on is asserted against the data, not against dbt's exit code alone: the example's
four-level rubric comes out with the right levels, parents and paths; every mart holds exactly the rows of
the staging models it is built from (nothing dropped, nothing duplicated); every staging model feeds some
mart; every column is documented; every mart declares its key; a reference broken in raw warns and keeps
the row, a key repeated with other content stops the build; and a product without the optional groups
(nor rubric levels 3-4) builds empty marts.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from _example_build import built_example
from _marts import (
    EXAMPLE_PRODUCT,
    Built,
    dbt,
    example_settings,
    primary_key_declarations,
    query,
    reading,
    scalar,
)

from extract.contract import OPTIONAL_GROUPS, OPTIONAL_TABLES, tables
from extract.load import load_product
from pipeline.dbt import DbtError, run_dbt, target_dir

RUBRIC = "66d0c3a0e1d2f3a4b5000009"  # the example's four-level rubric
# ids of things outside the product (the district, state and district numbering): no mart to point at
EXTERNAL_IDS = frozenset({"org_id", "state_school_id", "state_staff_id", "employee_id"})


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """A copy of the session's example build (tests/_example_build.py: loaded, `dbt build` of every model
    and data test); the module's own dbt runs reuse its target folder and partial parse."""
    settings = built_example(tmp_path_factory, "marts")
    target = target_dir(settings)
    return Built(settings.warehouse, json.loads((target / "manifest.json").read_text()), target)


def _models(manifest: dict, folder: str) -> dict[str, dict]:
    return {
        n["name"]: n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["original_file_path"].startswith(f"models/{folder}/")
    }


def test_example_rubric_indicators_have_levels_parents_and_paths(built: Built) -> None:
    rows = query(
        built.warehouse,
        f"""
        select i.code, i.level, parent.code, domain.code, i.code_path
        from marts.dim_rubric_indicators as i
        left join marts.dim_rubric_indicators as parent on i.parent_indicator_id = parent.indicator_id
        left join marts.dim_rubric_indicators as domain on i.domain_indicator_id = domain.indicator_id
        where i.rubric_id = '{RUBRIC}'
        order by i.position_path
        """,
    )
    assert [tuple(r) for r in rows] == [
        ("1", 1, None, "1", "1"),
        ("1a", 2, "1", "1", "1 > 1a"),
        ("3", 1, None, "3", "3"),
        ("3b", 2, "3", "3", "3 > 3b"),
        ("3b.1", 3, "3b", "3", "3 > 3b > 3b.1"),
        ("3b.1.i", 4, "3b.1", "3", "3 > 3b > 3b.1 > 3b.1.i"),
        ("3b.1.ii", 4, "3b.1", "3", "3 > 3b > 3b.1 > 3b.1.ii"),
        ("3b.2", 3, "3b", "3", "3 > 3b > 3b.2"),
    ]


def test_checked_subitems_carry_the_descriptor_line(built: Built) -> None:
    """proficiencyLevelSubitemIndex values are 0-based lines of the chosen level's descriptor `subitems`."""
    rows = query(
        built.warehouse,
        """
        select i.code, l.name, c.subitem_index, c.subitem_text
        from marts.fct_observation_indicator_subitem_checks as c
        join marts.dim_rubric_indicators as i on c.indicator_id = i.indicator_id
        join marts.dim_rubric_proficiency_levels as l on c.proficiency_level_id = l.proficiency_level_id
        order by i.code, c.subitem_index
        """,
    )
    descriptor_lines = {
        (code, level): text.split("\n")
        for code, level, text in query(
            built.warehouse,
            """
            select i.code, l.name, d.subitems
            from marts.dim_rubric_proficiency_descriptors as d
            join marts.dim_rubric_indicators as i on d.indicator_id = i.indicator_id
            join marts.dim_rubric_proficiency_levels as l on d.proficiency_level_id = l.proficiency_level_id
            where d.descriptor_source = 'indicator'
            """,
        )
    }
    assert rows, "the example product checks sub-items"
    for code, level, index, text in rows:
        assert text == descriptor_lines[(code, level)][index]
    assert ("1a", "Distinguished", 0, "Connects content to other disciplines") in [tuple(r) for r in rows]


def test_every_mart_holds_exactly_its_source_rows(built: Built) -> None:
    """meta.grain_sources names the staging models a mart has one row per; counts must match exactly."""
    checked = 0
    with reading(built.warehouse) as read:
        for name, node in _models(built.manifest, "marts").items():
            sources = node["config"].get("meta", {}).get("grain_sources")
            if not sources:
                continue
            (mart_rows,) = read(f"select count(*) from marts.{name}")[0]
            source_rows = sum(read(f"select count(*) from staging.{s}")[0][0] for s in sources)
            assert mart_rows == source_rows, f"{name}: {mart_rows} rows, its sources {sources}: {source_rows}"
            checked += 1
        assert checked >= 70
        # the derived marts: one school per distinct subOrgId, one snapshot work per captured position
        assert read("select count(*) from marts.dim_schools") == read(
            "select count(distinct sub_org_id) from staging.stg_edreflect__users__sub_orgs"
        )
        assert read("select count(*) from marts.dim_rubric_descriptor_subitems") == read(
            "select sum(subitem_count) from marts.dim_rubric_proficiency_descriptors"
        )
        works = read("select count(*), count(work_position) from marts.fct_snapshot_activity_works")
        assert works == [
            (
                read("select count(*) from staging.stg_edreflect__snapshots__activity_works")[0][0],
                read("select count(*) from staging.stg_edreflect__snapshots__indexes")[0][0],
            )
        ]


def test_soft_deleted_rows_are_kept_and_flagged(built: Built) -> None:
    flagged = "count(*) filter (where is_deleted)"
    users = query(built.warehouse, f"select count(*), {flagged} from marts.dim_users")[0]
    raw = query(built.warehouse, "select count(*), count(*) filter (where deleted = 'true') from raw.users")[
        0
    ]
    assert users == raw and users[1] >= 1
    (deleted_groups,) = query(built.warehouse, "select count(*) from marts.dim_groups where is_deleted")[0]
    assert deleted_groups >= 1
    # an array item inherits its document's flag, and memberships of the deleted user are still there
    assert query(
        built.warehouse,
        """
        select count(*) from marts.bridge_group_members as m
        join marts.dim_users as u on m.user_id = u.user_id
        where m.is_deleted <> u.is_deleted
        """,
    ) == [(0,)]


def test_every_staging_model_feeds_a_mart(built: Built) -> None:
    nodes = built.manifest["nodes"]
    children = built.manifest["child_map"]
    models = {uid: n for uid, n in nodes.items() if n["resource_type"] == "model"}
    staging = {uid for uid, n in models.items() if n["name"].startswith("stg_edreflect__")}
    marts = {uid for uid, n in models.items() if n["original_file_path"].startswith("models/marts/")}
    assert len(staging) == len(tables()) == 87
    orphans = []
    for uid in sorted(staging):
        seen, todo = set(), [uid]
        while todo:
            for child in children.get(todo.pop(), []):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        if not seen & marts:
            orphans.append(nodes[uid]["name"])
    assert orphans == []


def test_every_model_and_column_is_documented(built: Built) -> None:
    """The YAML documents exactly the columns the warehouse has, each with a description; PII is tagged."""
    columns: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in query(
        built.warehouse,
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema in ('intermediate', 'marts') order by table_schema, table_name, ordinal_position",
    ):
        columns.setdefault((schema, table), []).append(column)
    for folder, schema in (("intermediate", "intermediate"), ("marts", "marts")):
        for name, node in _models(built.manifest, folder).items():
            assert node["description"].strip(), f"{name} has no description"
            actual = columns.get((schema, name), [])
            documented = {c: v["description"] for c, v in node["columns"].items()}
            assert sorted(actual) == sorted(documented), (
                f"{name}: {actual} vs documented {sorted(documented)}"
            )
            assert all(d.strip() for d in documented.values()), f"{name} has a column without description"
    users = _models(built.manifest, "marts")["dim_users"]["columns"]
    pii = {c for c, v in users.items() if (v.get("config", {}).get("meta") or v.get("meta", {})).get("pii")}
    assert {"email", "first_name", "last_name", "state_staff_id"} <= pii


def test_every_mart_declares_its_key_and_column_types(built: Built) -> None:
    """Keys are declared where the engine enforces them (model contracts with a primary key), not tested
    again after the fact; every column has its declared type. A view (no constraint applies) tests its key
    once, unless it filters a table whose key is declared (the `_current` views)."""
    tested = {
        (n.get("attached_node") or "").split(".")[-1]: n["test_metadata"]["kwargs"].get("unique", [])
        for n in built.manifest["nodes"].values()
        if n["resource_type"] == "test" and n.get("test_metadata", {}).get("name") == "column_rules"
    }
    undeclared = []
    for name, node in _models(built.manifest, "marts").items():
        if node["config"]["materialized"] != "table":
            assert node["config"]["contract"]["enforced"], name
            assert name.endswith("_current") or tested.get(name), f"{name}: a view without a key test"
            continue
        assert node["config"]["contract"]["enforced"], name
        assert all(c.get("data_type") for c in node["columns"].values()), name
        if len(primary_key_declarations(node)) != 1:
            undeclared.append(name)
    assert undeclared == []
    # on DuckDB the key is checked by a query, not held by an index (macros/materializations/primary_key.sql):
    # the warehouse has no index to keep, and the key's columns refuse nulls
    constraints = query(
        built.warehouse,
        "select constraint_type, constraint_column_names from duckdb_constraints() "
        "where schema_name = 'marts' and table_name = 'fct_observations'",
    )
    assert ("NOT NULL", ["observation_id"]) in constraints
    assert not [c for c in constraints if c[0] in ("PRIMARY KEY", "UNIQUE")]
    assert scalar(built.warehouse, "select count(*) from duckdb_indexes() where schema_name = 'marts'") == 0


def test_every_mart_has_its_columns_in_the_order_its_yaml_lists_them(built: Built) -> None:
    """A table with a contract takes its YAML's column order (dbt inserts in that order) on every engine,
    a view its SQL's: both must agree, or a mart that is a view on DuckDB and a table on Spark (tables
    there) shows its columns in another order on each (`fct_snapshot_activity_works` did)."""
    columns: dict[str, list[str]] = {}
    for table, column in query(
        built.warehouse,
        "select table_name, column_name from information_schema.columns where table_schema = 'marts' "
        "order by table_name, ordinal_position",
    ):
        columns.setdefault(table, []).append(column)
    models = _models(built.manifest, "marts")
    assert set(columns) == set(models)
    for name, node in models.items():
        assert columns[name] == list(node["columns"]), name


def _copy(built: Built, tmp_path: Path) -> Path:
    """The built warehouse in another folder under the same name: dbt's profile is then the same, so the
    module's target folder keeps serving one partial parse (pipeline/dbt.py)."""
    warehouse = tmp_path / built.warehouse.name
    query(built.warehouse, "checkpoint")  # flush the write-ahead log so the file copy is the whole database
    shutil.copy(built.warehouse, warehouse)
    return warehouse


def test_a_new_warehouse_starts_from_the_shared_partial_parse(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warehouse of the same name and vars in a new folder, with a new target folder: dbt starts from the
    partial parse the module's build left in the parse cache (pipeline/dbt.py) instead of parsing it all."""
    target = tmp_path / "target"
    dbt(["parse"], tmp_path / built.warehouse.name, target)
    log = (target / "logs" / "dbt.log").read_text(errors="replace")
    assert "Unable to do partial parsing" not in log, log[:3000]
    assert "Partial parsing enabled" in log
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["nodes"].keys() == built.manifest["nodes"].keys()

    # Another district, school year and time zone: still a partial parse (dbt re-parses only the files that
    # read the settings: they reach dbt in the environment, not as vars), and the SQL reads the new ones.
    other = replace(
        example_settings(tmp_path / built.warehouse.name), district_id=3100777, school_years=(2031,)
    )
    monkeypatch.setenv("DISTRICT_TIMEZONE", "America/Denver")
    selected = ("edfi_cohorts_evaluated", "fct_observation_summaries")
    logs = ["--target-path", str(target), "--log-path", str(target / "logs")]
    run_dbt(["compile", "--select", *selected, *logs], other, quiet=True)
    last = (target / "logs" / "dbt.log").read_text(errors="replace").split("Running with dbt=")[-1]
    assert "Unable to do partial parsing" not in last, last[:3000]
    compiled = {p.stem: p.read_text() for p in (target / "compiled").rglob("*.sql") if p.stem in selected}
    cohorts = compiled["edfi_cohorts_evaluated"]
    assert "3100777" in cohorts and "in (2031)" in cohorts
    assert "America/Denver" in compiled["fct_observation_summaries"]


def test_a_broken_reference_in_raw_warns_and_the_row_stays(built: Built, tmp_path: Path) -> None:
    """An orphan reference changes no output: a warning at staging (the one place the contract's
    references are checked), and the mart keeps the row (README: severity policy)."""
    warehouse = _copy(built, tmp_path)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            """update raw.observations set "learnerId" = 'ffffffffffffffffffffffff'
            where "_id" = (select min("_id") from raw.observations)"""
        )
    result = dbt(
        ["build", "--select", "stg_edreflect__observations", "fct_observations"], warehouse, built.target
    )
    statuses = {r.node.name: (str(r.status), r.failures) for r in result.results}
    assert statuses["contract_conformance_observations"] == ("warn", 1)
    assert query(
        warehouse, "select count(*) from marts.fct_observations where learner_id = 'ffffffffffffffffffffffff'"
    ) == [(1,)]


def test_a_key_repeating_with_other_content_stops_the_build_naming_the_mart(
    built: Built, tmp_path: Path
) -> None:
    """Two different records under one id would make every count wrong: the mart's primary key refuses it
    (the model's check, its message naming the table, the key, the count and the value).
    dbt runs here on a warehouse that holds the models already (as `make dbt` does): the staging model is
    replaced, and the mart that failed keeps its previous rows whole (macros/materializations/table.sql:
    dropped and created again in one transaction), with no half-built relation left beside it."""
    warehouse = _copy(built, tmp_path)
    staged, facts = (
        scalar(warehouse, f"select count(*) from {name}")
        for name in ("staging.stg_edreflect__observations", "marts.fct_observations")
    )
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            """insert into raw.observations
               select * replace ('2020-01-01T00:00:00Z' as "updatedAt", _source_line + 100 as _source_line)
               from raw.observations where "_id" = (select min("_id") from raw.observations)"""
        )
    repeated = scalar(warehouse, 'select min("_id") from raw.observations')
    with pytest.raises(DbtError) as failure:
        dbt(["build", "--select", "stg_edreflect__observations", "fct_observations"], warehouse, built.target)
    message = " ".join(str(failure.value).split())
    assert (
        "primary key violation: marts.fct_observations (observation_id): 1 key value(s) in more than one "
        f"row, e.g. {repeated}"
    ) in message, message
    assert scalar(warehouse, "select count(*) from staging.stg_edreflect__observations") == staged + 1
    assert scalar(warehouse, "select count(*) from marts.fct_observations") == facts
    tables = {name for (name,) in query(warehouse, "select table_name from information_schema.tables")}
    assert not {name for name in tables if "__dbt_" in name}


def test_a_broken_column_rule_stops_dbt_naming_the_column_the_check_and_the_values(
    built: Built, tmp_path: Path
) -> None:
    """The column rules of the Ed-Fi, intermediate and analyst models and the seeds (one `column_rules` test
    per model: not null, accepted values, unique, relationships): a broken one stops dbt, and the message
    names each column and check with its rows and values, read back from the warehouse dbt tested."""
    warehouse = _copy(built, tmp_path)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update edfi.edfi_outcomes set severity = 'fatal' where rowid < 2")
        con.execute("update edfi.edfi_outcomes set reason = null where rowid = 2")
        con.execute(
            "insert into edfi.edfi_cohorts_evaluated select * from edfi.edfi_cohorts_evaluated limit 1"
        )
        con.execute("update marts.fct_goal_summaries set school_year = 1999 where rowid = 0")
    with pytest.raises(DbtError) as failure:
        dbt(
            ["test", "--select", "edfi_outcomes", "edfi_cohorts_evaluated", "fct_goal_summaries"],
            warehouse,
            built.target,
        )
    message = str(failure.value)
    assert "column severity: not one of: error, warning, info: 2 rows, e.g. fatal" in message, message
    assert "column reason: is null: 1 row" in message, message
    assert re.search(r"column group_id: repeats in another row: 2 rows, e.g. [0-9a-f]{24}\b", message), (
        message
    )
    assert "column school_year: no row in dim_school_year has this school_year: 1 row, e.g. 1999" in message


def test_a_product_without_optional_groups_builds_empty_marts(built: Built, tmp_path: Path) -> None:
    product = tmp_path / "product"
    shutil.copytree(EXAMPLE_PRODUCT, product)
    for group in OPTIONAL_GROUPS:
        shutil.rmtree(product / group)
    for name in OPTIONAL_TABLES:
        (product / "rubrics" / f"{name}.csv").unlink()
    # nothing may point into the absent groups and levels (contract section 5): drop those references
    _strip_references(product)
    warehouse = tmp_path / built.warehouse.name
    load_product(product, warehouse)
    dbt(["run", "--select", "staging", "intermediate", "marts"], warehouse, built.target)
    empty = ("fct_goals", "bridge_goal_users", "fct_slos", "fct_slo_answers", "dim_slo_templates")
    for mart in (*empty, "fct_eoy_classifications", "fct_slo_assessment_measures"):
        assert query(warehouse, f"select count(*) from marts.{mart}") == [(0,)], mart
    assert query(warehouse, "select max(level) from marts.dim_rubric_indicators") == [(2,)]
    assert query(warehouse, "select count(*) from marts.dim_users")[0][0] == 5


def _strip_references(product: Path) -> None:
    """Keep the trimmed product consistent: nothing points into an absent group or level (contract section 5).

    Evidence-to-goal links go; references to level-3/4 indicators move to their level-2 ancestor `3b`.
    """
    level_2 = "66d0c3a0e1d2f3a4b500001d"
    deep = tuple(f"66d0c3a0e1d2f3a4b50000{suffix}" for suffix in ("1e", "1f", "20", "21"))
    links = product / "evidences" / "evidences.goals.csv"
    links.write_text(links.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    for path in product.rglob("*.csv"):
        text = path.read_bytes().decode("utf-8")
        if any(d in text for d in deep):
            for d in deep:
                text = text.replace(d, level_2)
            path.write_bytes(text.encode("utf-8"))
