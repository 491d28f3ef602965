"""The analyst marts (models/marts/analyst) and the example questions (analyses/), on the contract's example.

What an analyst relies on, checked in the warehouse itself: the seven example analyses compile and run, and
their answers agree with the marts they summarise; a SQL client sees the YAML descriptions as table and column
comments; every analyst table declares its primary key; the `_current` views hold no deleted record and no
row of a deleted parent; and `DISTRICT_TIMEZONE` reaches dbt. The rules themselves (score, primary school, SLO
roll-up, deletes, DST) are pinned by the dbt unit tests beside the models (`unit_tests:` in
models/marts/analyst/_analyst__models.yml), which tests/test_dbt_unit_tests.py runs with every other.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _example_build import built_example
from _marts import Built, dbt, example_settings, primary_key_declarations, query, scalar

from pipeline.dbt import run_settings, target_dir

ANALYST_TABLES = (
    "dim_staff",
    "dim_school",
    "dim_school_year",
    "fct_observation_summaries",
    "fct_observation_indicator_results",
    "fct_slo_summaries",
    "fct_goal_summaries",
    "bridge_group_memberships",
)
CURRENT = {
    "dim_staff_current": "dim_staff",
    "fct_observation_summaries_current": "fct_observation_summaries",
    "fct_observation_indicator_results_current": "fct_observation_indicator_results",
    "fct_slo_summaries_current": "fct_slo_summaries",
    "fct_goal_summaries_current": "fct_goal_summaries",
    "bridge_group_memberships_current": "bridge_group_memberships",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """A copy of the session's example build (tests/_example_build.py: every model and data test, the
    analyst marts' among them), then the analyses compiled."""
    settings = built_example(tmp_path_factory, "analyst")
    target = target_dir(settings)
    dbt(["compile", "--select", "path:analyses"], settings.warehouse, target)
    return Built(settings.warehouse, json.loads((target / "manifest.json").read_text()), target)


def _analyses(built: Built) -> dict[str, str]:
    folder = built.target / "compiled" / "edreflect_edfi" / "analyses"
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.sql"))}


def test_the_seven_example_analyses_compile_and_run(built: Built) -> None:
    compiled = _analyses(built)
    assert len(compiled) == 7, sorted(compiled)
    answers = {name: query(built.warehouse, sql) for name, sql in compiled.items()}
    # Q1: every current observation of the latest year is counted once, on a school or on District-wide
    latest = """select count(*) from marts.fct_observation_summaries as o
        join marts.dim_school_year as y on o.school_year = y.school_year
        where y.is_latest_with_data and not o.is_deleted"""
    assert sum(row[2] for row in answers["q1_observations_per_school"]) == scalar(built.warehouse, latest) > 0
    # Q5: one row per current, distinct membership; no deleted member or group
    q5 = answers["q5_group_members"]
    assert len(q5) == scalar(built.warehouse, "select count(*) from marts.bridge_group_memberships_current")
    assert len(q5) < scalar(built.warehouse, "select count(*) from marts.bridge_group_memberships")
    # Q3: domains are level-1 indicators, averages on the rubric's scale
    for _rubric, code, _name, count, average in answers["q3_indicator_scores_per_domain"]:
        assert "." not in code and count > 0 and 0 <= average <= 5
    # Q6: every current SLO is met, not met or not scored
    slos = scalar(built.warehouse, "select count(*) from marts.fct_slo_summaries where not is_deleted")
    assert sum(row[1] for row in answers["q6_slos_met"]) == slos
    assert all(row[1] == row[2] + row[3] + row[4] for row in answers["q6_slos_met"])


def test_descriptions_are_column_and_table_comments(built: Built) -> None:
    """A SQL client shows the YAML: descriptions are persisted as comments (dbt persist_docs)."""
    node = built.manifest["nodes"]["model.edreflect_edfi.fct_observation_summaries"]
    comment = scalar(
        built.warehouse,
        """select comment from duckdb_columns()
        where schema_name = 'marts' and table_name = 'fct_observation_summaries'
        and column_name = 'score_rule'""",
    )
    assert comment == node["columns"]["score_rule"]["description"]
    assert "primary observer" in comment
    table_comment = scalar(
        built.warehouse,
        "select comment from duckdb_tables() where schema_name = 'marts' and table_name = 'dim_school'",
    )
    assert table_comment and "district-wide member" in table_comment
    # a doc() block is rendered, not left as Jinja
    deleted = scalar(
        built.warehouse,
        """select comment from duckdb_columns()
        where schema_name = 'marts' and table_name = 'dim_staff' and column_name = 'is_deleted'""",
    )
    assert deleted.startswith("Soft-delete flag")
    uncommented = query(
        built.warehouse,
        f"""select table_name, column_name from duckdb_columns()
        where schema_name = 'marts' and comment is null
        and table_name in ({", ".join(f"'{t}'" for t in (*ANALYST_TABLES, *CURRENT))})""",
    )
    assert uncommented == []


def _declared_keys(manifest: dict) -> dict[str, list[str]]:
    """Each mart's primary key as its contract declares it (a column's constraint or the model's)."""
    keys = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or not node["original_file_path"].startswith("models/marts/"):
            continue
        declarations = primary_key_declarations(node)
        if declarations:
            keys[node["name"]] = [column for columns in declarations for column in columns]
    return keys


def test_every_analyst_table_declares_its_primary_key_and_it_holds(built: Built) -> None:
    keys = _declared_keys(built.manifest)
    for table in ANALYST_TABLES:
        assert table in keys, f"{table} declares no primary key"
        key = ", ".join(keys[table])
        rows, distinct = query(
            built.warehouse, f"select count(*), count(distinct ({key})) from marts.{table}"
        )[0]
        assert rows == distinct, table
    assert keys["dim_school"] == ["school_id"] and keys["fct_observation_summaries"] == ["observation_id"]
    # a `_current` model is a view of a subset of its base table's rows (nothing copied): the base's key holds
    # (the other view of the marts, fct_snapshot_activity_works, tests its key: test_marts.py)
    views = {
        name
        for (name,) in query(
            built.warehouse, "select view_name from duckdb_views() where schema_name = 'marts'"
        )
    }
    assert views == {*CURRENT, "fct_snapshot_activity_works"}
    for current, base in CURRENT.items():
        key = ", ".join(keys[base])
        rows, distinct = query(
            built.warehouse, f"select count(*), count(distinct ({key})) from marts.{current}"
        )[0]
        assert rows == distinct, current


def test_current_views_hold_no_deleted_record_nor_a_row_of_a_deleted_parent(built: Built) -> None:
    for current, base in CURRENT.items():
        kept = scalar(built.warehouse, f"select count(*) from marts.{current}")
        live = scalar(built.warehouse, f"select count(*) from marts.{base} where not is_deleted")
        if base == "bridge_group_memberships":
            live = scalar(
                built.warehouse,
                f"select count(*) from marts.{base} where not is_deleted and not is_duplicate",
            )
        assert kept == live, current
        assert scalar(built.warehouse, f"select count(*) from marts.{current} where is_deleted") == 0
    # the example's deleted user is in groups: those memberships leave the current view (a deleted group's
    # too: unit test group_memberships_current_drop_deleted_parents_and_duplicates)
    of_deleted_parents = """select count(*) from marts.bridge_group_memberships{suffix} as m
        join marts.dim_staff as u on m.user_id = u.user_id
        join marts.dim_groups as g on m.group_id = g.group_id
        where u.is_deleted or g.is_deleted"""
    assert scalar(built.warehouse, of_deleted_parents.format(suffix="")) >= 1
    assert scalar(built.warehouse, of_deleted_parents.format(suffix="_current")) == 0


def test_every_school_id_lands_on_dim_school_and_every_educator_has_one_primary_school(built: Built) -> None:
    assert query(
        built.warehouse,
        """select count(*) from marts.fct_observation_summaries as o
        left join marts.dim_school as s on o.school_id = s.school_id where s.school_id is null""",
    ) == [(0,)]
    assert scalar(built.warehouse, "select count(*) from marts.dim_school where is_district_wide") == 1
    assert query(
        built.warehouse,
        """select count(*), count(distinct user_id), count(primary_school_id) from marts.dim_staff""",
    ) == [(5, 5, 5)]


def test_district_timezone_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DISTRICT_TIMEZONE", raising=False)
    assert run_settings(example_settings(tmp_path / "wh.duckdb"))["district_timezone"] == "America/Chicago"
    monkeypatch.setenv("DISTRICT_TIMEZONE", "America/Denver")
    assert run_settings(example_settings(tmp_path / "wh.duckdb"))["district_timezone"] == "America/Denver"
