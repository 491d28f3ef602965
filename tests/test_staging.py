"""The generated dbt staging layer, run with real dbt on a real DuckDB warehouse.

One module-scoped warehouse holds the example product plus one injected exact duplicate row; `dbt build
--select staging` runs on it once and the tests check what it produced (counts, types, renames). The
failure-path tests then reload raw, break it on purpose and build a few models again.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import yaml

from extract import contract
from extract.load import load_product
from pipeline import codegen, config
from pipeline.dbt import run_dbt

pytestmark = pytest.mark.slow

EXAMPLE_PRODUCT = contract.PROJECT_ROOT / "tests" / "fixtures" / "example_product"
DUPLICATED = "groups"  # the table that gets one exact duplicate row before the build


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private warehouse path (dbt's target and log folders are the warehouse's own, `<warehouse>.dbt/`)."""
    root = tmp_path_factory.mktemp("staging")
    # run_dbt sets WAREHOUSE in the environment: put it back afterwards for the tests that follow
    saved = {"WAREHOUSE": os.environ.get("WAREHOUSE")}
    yield root
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _settings(warehouse: Path) -> config.Settings:
    return config.from_env({"WAREHOUSE": str(warehouse)})


def _load(warehouse: Path) -> None:
    result = load_product(EXAMPLE_PRODUCT, warehouse)
    assert result.files == 87


def _dbt(args: list[str], warehouse: Path) -> object:
    return run_dbt(args, _settings(warehouse), quiet=True)


@pytest.fixture(scope="module")
def built(workspace: Path) -> dict:
    """Example product + one exact duplicate in raw.groups, `dbt build --select staging`, then a snapshot."""
    warehouse = workspace / "warehouse.duckdb"
    _load(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        # the same record again further down the file: equal in every contract column, other lineage
        con.execute(
            f"insert into raw.{DUPLICATED} select * replace (_source_line + 1000 as _source_line) "
            f"from raw.{DUPLICATED} where _source_line = 2"
        )
    result = _dbt(["build", "--select", "staging"], warehouse)
    with duckdb.connect(str(warehouse)) as con:
        raw = {
            t.key: con.execute(f"select count(*) from {t.raw_relation}").fetchone()[0]
            for t in contract.tables()
        }
        staged = {
            t.key: con.execute(f"select count(*) from staging.{codegen.model_name(t)}").fetchone()[0]
            for t in contract.tables()
        }
        types = {
            (table, column): data_type
            for table, column, data_type in con.execute(
                "select table_name, column_name, data_type from information_schema.columns "
                "where table_schema = 'staging' and table_name like 'stg_edreflect__%'"
            ).fetchall()
        }
        groups = con.execute(
            f"select group_id, source_line from staging.{codegen.model_name(contract.table(DUPLICATED))} "
            "order by source_line"
        ).fetchall()
        deleted_groups = con.execute(
            "select count(*) from staging.stg_edreflect__groups where is_deleted"
        ).fetchone()[0]
        violations = sum(rows for rows in _conformance(result, con).values())
    return {
        "warehouse": warehouse,
        "raw": raw,
        "staged": staged,
        "types": types,
        "groups": groups,
        "deleted_groups": deleted_groups,
        "violations": violations,
    }


def _conformance(result: object, con: duckdb.DuckDBPyConnection) -> dict[tuple, int]:
    """The `contract_conformance` findings of a dbt run: (model, column, check) -> failing rows, read by
    running each failing test's compiled query (what the test counted)."""
    found: dict[tuple, int] = {}
    for r in result.results:
        if r.node.unique_id.startswith("test.") and r.node.name.startswith("contract_conformance_"):
            assert str(r.status) in {"pass", "warn"}, (r.node.name, r.status, r.message)
            if str(r.status) == "warn":
                for model, _table, column, check, rows, examples in con.execute(
                    r.node.compiled_code
                ).fetchall():
                    found[(model, column, check, examples)] = rows
    return found


def test_generated_files_match_the_contract():
    """Drift guard: the committed models and YAML are exactly what `make generate` writes."""
    assert codegen.drift() == [], "generated staging files are out of date: run `make generate`"


def test_codegen_is_idempotent_and_writes_every_file(tmp_path: Path):
    first = codegen.write(tmp_path)
    assert len([n for n in first if n.endswith(".sql") and "/stg_edreflect__" in n]) == 87
    assert codegen.write(tmp_path) == []
    assert codegen.drift(tmp_path) == []
    (tmp_path / "models/staging/users/stg_edreflect__gone.sql").write_text("select 1\n")
    (tmp_path / "models/staging/gone").mkdir()
    (tmp_path / "models/staging/gone/_gone__models.yml").write_text("version: 2\n")
    assert codegen.drift(tmp_path) == [
        "models/staging/gone/_gone__models.yml",
        "models/staging/users/stg_edreflect__gone.sql",
    ]


def test_a_contract_line_is_all_it_takes_to_stage_a_new_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    csv_path = tmp_path / "contract.csv"
    csv_path.write_text(
        contract.CONTRACT_CSV.read_text(encoding="utf-8")
        + "users,users,preferredName,string,true,e.g. Dee\n",
        encoding="utf-8",
    )
    real = contract.load_contract
    monkeypatch.setattr(contract, "load_contract", lambda path=csv_path: real(path))
    files = codegen.render()
    sql = files["models/staging/users/stg_edreflect__users.sql"]
    assert "        nullif({{ adapter.quote('preferredName') }}, '') as preferred_name,\n" in sql
    # and the deduplication compares it: one of the columns it selects and groups by
    assert sql.count("\n        {{ adapter.quote('preferredName') }}") == 2
    (users,) = yaml.safe_load(files["models/staging/users/_users__models.yml"])["models"][:1]
    assert users["name"] == "stg_edreflect__users"
    column = next(c for c in users["columns"] if c["name"] == "preferred_name")
    assert column == {"name": "preferred_name", "description": "e.g. Dee", "data_type": "varchar"}
    (test,) = users["data_tests"]
    assert test["contract_conformance"]["arguments"]["tables"][0]["columns"]["preferred_name"] == {
        "source_column": "preferredName",
        "contract_type": "string",
        "required": False,
    }
    # the sources file lists tables, not their columns
    assert "preferredName" not in files["models/staging/users/_users__sources.yml"]


def test_generated_models_quote_names_through_the_adapter_never_with_double_quotes():
    """dbt-spark turns Spark's ANSI mode off, where `"orgId"` is a string literal, not a column: every
    camelCase name is quoted by `adapter.quote` (backticks on Spark, double quotes on DuckDB, PostgreSQL)."""
    files = {n: t for n, t in codegen.render().items() if n.endswith(".sql")}
    assert len(files) == 87
    for name, sql in files.items():
        assert not re.search(r'"[A-Za-z_]', sql), f"{name} quotes a name with double quotes"
    artifacts = files["models/staging/artifacts/stg_edreflect__artifacts.sql"]
    assert "{{ try_cast_text(adapter.quote('sizeBytes'), 'bigint') }} as size_bytes," in artifacts
    assert "{{ try_cast_text('deleted', 'boolean') }} as is_deleted," in artifacts


@pytest.mark.parametrize(
    ("table", "column", "expected"),
    [
        ("groups", "_id", "group_id"),
        ("users", "_id", "user_id"),
        ("users", "name.first", "name_first"),
        ("users", "active", "is_active"),
        ("users", "deleted", "is_deleted"),
        ("users", "stateStaffId", "state_staff_id"),
        ("users.groups", "groupId", "group_id"),
        ("users.groups", "_rootId", "root_id"),
        ("users.groups", "_parentId", "parent_id"),
        ("users.groups", "_index", "array_index"),
        ("users.subOrgs", "isPrimary", "is_primary"),
        ("observations.work", "_id", "work_id"),
        ("observationTemplates.activities", "_id", "activity_id"),
        ("eoy.Classifications", "_id", "classification_id"),
        ("observations.work.steps", "_id", "work_step_id"),
        ("observations.work.evaluations.indicators", "_id", "evaluation_indicator_id"),
        ("goals.questions", "required", "is_required"),
    ],
)
def test_staging_names_follow_the_brief(table: str, column: str, expected: str):
    t = contract.table(table)
    assert codegen.staging_name(t, t.column(column)) == expected


def test_every_table_has_an_explicit_model_with_every_column_and_its_description():
    """Each model is the SQL a person would write: a `source` CTE, every contract column renamed and cast
    once in `renamed` (a reader greps a column and finds its cast), lineage last; its group's YAML
    describes the model and every column, and its root model holds the group's one `contract_conformance`
    test with the rules of every table of the group."""
    files = codegen.render()
    models = [n for n in files if re.fullmatch(r"models/staging/\w+/stg_edreflect__\w+\.sql", n)]
    assert len(models) == 87
    for group in contract.FILE_GROUPS:
        folder = codegen.group_folder(group)
        doc = yaml.safe_load(files[f"models/staging/{folder}/_{folder}__models.yml"])
        tables = contract.tables_in_group(group)
        assert [m["name"] for m in doc["models"]] == [codegen.model_name(t) for t in tables]
        sources = yaml.safe_load(files[f"models/staging/{folder}/_{folder}__sources.yml"])["sources"]
        assert [t["name"] for t in sources[0]["tables"]] == [t.key for t in tables]
        assert all("columns" not in t and t["loaded_at_field"] == "_loaded_at" for t in sources[0]["tables"])
        for t, model in zip(tables, doc["models"], strict=True):
            sql = files[codegen.model_path(t)]
            assert f"    select * from {{{{ source('edreflect', '{t.key}') }}}}\n" in sql
            assert sql.endswith("select * from renamed\n")
            assert "config" not in model, "no restated meta"
            assert model["description"], model["name"]
            if t.is_top_level:  # one test per file group checks every contract rule of its tables
                (test,) = model["data_tests"]
                rules = test["contract_conformance"]["arguments"]["tables"]
                assert [r["model"] for r in rules] == [codegen.model_name(x) for x in tables]
                assert [r["source_table"] for r in rules] == [x.key for x in tables]
            else:
                assert "data_tests" not in model, model["name"]
            staged = [c.name for c in codegen.staged_columns(t)] + [n for _, n, _, _ in codegen.LINEAGE]
            assert [c["name"] for c in model["columns"]] == staged, model["name"]
            for col in model["columns"]:
                assert col["description"] and col["data_type"], (model["name"], col["name"])
                assert len(re.findall(rf" as {col['name']},?\n", sql)) == 1, (model["name"], col["name"])
    users = files["models/staging/users/stg_edreflect__users.sql"]
    cast = "{{ try_cast_text(adapter.quote('createdAt'), 'timestamp with time zone') }}"
    assert f"        {cast} as created_at,\n" in users
    assert "        nullif({{ adapter.quote('name.first') }}, '') as name_first,\n" in users
    assert "        _loaded_at as loaded_at\n\n    from deduplicated\n" in users


def test_staging_keeps_every_row_except_exact_duplicates(built: dict):
    assert all(n > 0 for n in built["raw"].values()), "the example product has rows in every table"
    expected = {key: n - (1 if key == DUPLICATED else 0) for key, n in built["raw"].items()}
    assert built["staged"] == expected
    # the first copy (by source line) survives, the injected one at line 1002 is gone
    assert [line for _id, line in built["groups"]] == sorted(line for _id, line in built["groups"])
    assert max(line for _id, line in built["groups"]) < 1000
    assert built["deleted_groups"] == 1, "the example's soft-deleted group is kept, flagged"
    assert built["violations"] == 0, "the example product matches the contract"


def test_columns_have_the_contract_types(built: dict):
    duck_types = {k: v.upper() for k, v in codegen.DATA_TYPES.items()}
    for t in contract.tables():
        model = codegen.model_name(t)
        for col in codegen.staged_columns(t):
            assert built["types"].get((model, col.name)) == duck_types[col.column.type], (model, col.name)
        assert built["types"][(model, "source_line")] == "BIGINT"
        assert built["types"][(model, "loaded_at")] == "TIMESTAMP"
    assert built["types"][("stg_edreflect__users", "created_at")] == "TIMESTAMP WITH TIME ZONE"
    assert built["types"][("stg_edreflect__slos__answers__assessments__measures", "target")] == "DOUBLE"
    # no raw (contract) name leaks through
    assert ("stg_edreflect__users", "name.first") not in built["types"]


def test_values_off_contract_warn_naming_table_column_value_and_line(built: dict):
    """A broken vendor promise about single records warns (README: severity policy): the build goes on,
    every row is kept, and each finding names the model, column, check, count, file and line."""
    warehouse = built["warehouse"]
    _load(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("""update raw.users set "createdAt" = 'last tuesday' where _source_line = 3""")
        con.execute("""update raw.artifacts set "sizeBytes" = '2.5' where _source_line = 4""")
        con.execute("""update raw.users set email = null where _source_line = 5""")
        con.execute("""update raw.artifacts set type = 'hologram' where _source_line = 2""")
        # an indicator id that is at no level of any rubric
        con.execute(
            """update raw.evidences__indicators set "indicatorId" = '66d0c3a0e1d2f3a4b5ffffff'
               where _source_line = 2"""
        )
    selected = [
        "stg_edreflect__users",
        "stg_edreflect__artifacts",
        "stg_edreflect__evidences__indicators",
    ]
    result = _dbt(["build", "--select", *selected], warehouse)
    with duckdb.connect(str(warehouse)) as con:
        findings = _conformance(result, con)
        assert con.execute(
            "select created_at from staging.stg_edreflect__users where source_line = 3"
        ).fetchone() == (None,)
        kept = {
            t: con.execute(f"select count(*) from staging.{t}").fetchone()[0]
            for t in (
                "stg_edreflect__users",
                "stg_edreflect__artifacts",
                "stg_edreflect__evidences__indicators",
            )
        }
    assert kept == {
        "stg_edreflect__users": built["raw"]["users"],
        "stg_edreflect__artifacts": built["raw"]["artifacts"],
        "stg_edreflect__evidences__indicators": built["raw"]["evidences__indicators"],
    }, "rows with findings are kept"
    levels = " or ".join(
        codegen.model_name(t) for t in contract.tables() if re.fullmatch(r"rubrics(\.indicators)+", t.name)
    )
    assert findings == {
        (
            "stg_edreflect__artifacts",
            "size_bytes",
            "do not parse as integer",
            "artifacts/artifacts.csv:4 2.5",
        ): 1,
        (
            "stg_edreflect__artifacts",
            "type",
            "not one of: file, link, video",
            "artifacts/artifacts.csv:2 hologram",
        ): 1,
        (
            "stg_edreflect__evidences__indicators",
            "indicator_id",
            f"no row in {levels} has this indicator_id",
            "evidences/evidences.indicators.csv:2 66d0c3a0e1d2f3a4b5ffffff",
        ): 1,
        (
            "stg_edreflect__users",
            "created_at",
            "do not parse as timestamp",
            "users/users.csv:3 last tuesday",
        ): 1,
        ("stg_edreflect__users", "email", "empty in a required column", "users/users.csv:5"): 1,
    }


def test_staging_builds_when_optional_groups_are_absent(built: dict):
    """Raw tables of absent optional groups and levels exist but are empty (the loader's guarantee)."""
    warehouse = built["warehouse"]
    _load(warehouse)
    optional = [t for t in contract.tables() if t.is_optional]
    with duckdb.connect(str(warehouse)) as con:
        for t in optional:
            con.execute(f"delete from {t.raw_relation}")
        # contract: when an optional group is absent, nothing points into it
        con.execute("delete from raw.evidences__goals")
        # no rubric deeper than level 2: references to level 3-4 indicators point at a level-2 one instead
        for t in contract.tables():
            if any(c.reference == "rubrics.indicators*" for c in t.columns) and not t.is_optional:
                con.execute(
                    f"""update {t.raw_relation}
                        set "indicatorId" = (select min(_id) from raw.rubrics__indicators__indicators)
                        where "indicatorId" not in (
                            select _id from raw.rubrics__indicators
                            union all select _id from raw.rubrics__indicators__indicators
                        )"""
                )
    selection = [codegen.model_name(t) for t in optional] + [
        "stg_edreflect__evidences__goals",
        "stg_edreflect__evidences__indicators",
        "stg_edreflect__rubrics__indicators",
    ]
    _dbt(["build", "--select", *selection], warehouse)
    with duckdb.connect(str(warehouse)) as con:
        for t in optional:
            assert con.execute(f"select count(*) from staging.{codegen.model_name(t)}").fetchone() == (0,)
