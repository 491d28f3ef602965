"""The severity policy (README: "What stops a build, and what only warns"), one test per class, end to end
as `make build` runs it (`python -m pipeline build`) on the contract's example product:

- exact duplicate rows: a warning with counts, the build publishes, staging keeps one copy;
- a key repeated with different content: the build stops naming the table, nothing is published;
- a violation outside what the export reads (a score on another rubric's indicator): a warning, the rows
  kept and flagged, the Ed-Fi output unchanged;
- a violation inside what the export reads (a membership of a group, or of a user, that does not exist):
  an error for that record in summary.json, the other cohorts and memberships still rendered;
- STRICT=1: the first warning stops the run, nothing is published.

The builds share one warehouse path, in order; the clean example's Ed-Fi files, to compare with, are the
session's example build's.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from _example_build import built_example
from _pipeline import run_pipeline

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PRODUCT = PROJECT_ROOT / "tests" / "fixtures" / "example_product"
OTHER_RUBRIC_INDICATOR = "66d0c3a0e1d2f3a4b5000022"  # `W1` of the example's second rubric
UNKNOWN_GROUP = "66d0c3a0e1d2f3a4b5ffffff"
UNKNOWN_USER = "66d0c3a0e1d2f3a4b5eeeeee"
GRADE_3 = "66d0c3a0e1d2f3a4b5000011"  # a group the example sends

pytestmark = pytest.mark.slow


class Run:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.warehouse = root / "warehouse" / "edreflect.duckdb"
        self.output = root / "edfi"

    def build(self, product: Path, **env: str) -> subprocess.CompletedProcess[str]:
        full_env = {
            **{k: v for k, v in os.environ.items() if k != "STRICT"},
            "DATA_PRODUCT": str(product),
            "WAREHOUSE": str(self.warehouse),
            "EDFI_OUTPUT": str(self.output),
            "EDFI_DISTRICT_ID": "3100042",
            "EDFI_SCHOOL_YEARS": "2025",
            "GX_DIR": str(self.root / "gx"),
            "LOG_FILE": str(self.root / "edreflect-edfi.log"),
            **env,
        }
        return run_pipeline("build", env=full_env, timeout=600)

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()

    def files(self) -> dict[str, bytes]:
        return _files(self.output)


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by its path relative to it."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _said(proc: subprocess.CompletedProcess[str]) -> str:
    """What the run printed, with the terminal's line wrapping undone."""
    return " ".join(proc.stderr.split())


def _append(path: Path, rows: list[list[str]]) -> None:
    with path.open("a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def _rewrite(path: Path, change) -> None:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    rows = change(rows)
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def product_with_findings(root: Path) -> Path:
    """The example product with one finding of each non-stopping class."""
    product = root / "findings"
    shutil.copytree(EXAMPLE_PRODUCT, product)
    roles = product / "users" / "users.roles.csv"
    first_role = roles.read_text(encoding="utf-8").splitlines()[1]
    # an at-least-once export: the same record five more times
    _append(roles, [next(csv.reader([first_role]))] * 5)

    # a score on an indicator of the other rubric (no cohort reads scores)
    def off_rubric(rows: list[list[str]]) -> list[list[str]]:
        at = rows[0].index("indicatorId")
        rows[1][at] = OTHER_RUBRIC_INDICATOR
        return rows

    _rewrite(product / "observations" / "observations.work.evaluations.indicators.csv", off_rubric)
    # memberships the export reads: one of a group that does not exist, one of a user that does not exist
    groups = product / "users" / "users.groups.csv"
    member = next(csv.reader([groups.read_text(encoding="utf-8").splitlines()[1]]))
    _append(
        groups,
        [
            [member[0], member[1], "7", UNKNOWN_GROUP, "observer", "2024-08-19T15:00:00.000Z"],
            [UNKNOWN_USER, UNKNOWN_USER, "0", GRADE_3, "observer", "2024-08-19T15:00:00.000Z"],
        ],
    )
    return product


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The product with findings built as `make build` runs it; what the clean example renders comes from
    the session's example build (tests/_example_build.py: the same Ed-Fi files for 2025, byte for byte, as
    a clean `make build` of the example with EDFI_SCHOOL_YEARS=2025)."""
    root = tmp_path_factory.mktemp("severity")
    run = Run(root)
    clean_files = _files(built_example(tmp_path_factory, "severity_clean").edfi_output)
    findings = product_with_findings(root)
    warned = run.build(findings)
    yield {"run": run, "clean_files": clean_files, "findings": findings, "warned": warned}


def test_exact_duplicate_rows_warn_with_counts_and_the_build_publishes(runs: dict) -> None:
    run, warned = runs["run"], runs["warned"]
    assert warned.returncode == 0, warned.stderr[-3000:]
    assert "build succeeded" in warned.stderr
    said = _said(warned)
    assert "users.roles" in said and "repeats another exactly" in said and "5 failing" in said
    # every row landed, staging keeps one copy: 6 copies in raw, 1 in staging
    landed, staged = run.query(
        """select (select count(*) from raw.users__roles),
                  (select count(*) from staging.stg_edreflect__users__roles)"""
    )[0]
    assert landed - staged == 5
    # the finding is in the quality table, with its count
    found = run.query(
        """select severity, unexpected_count from quality.validation_results
           where layer = 'raw' and table_name like '%users%roles%' and not success"""
    )
    assert ("warning", 5) in found, found


def test_a_violation_outside_the_export_warns_flags_the_rows_and_changes_no_ed_fi_output(runs: dict) -> None:
    run, warned = runs["run"], runs["warned"]
    assert warned.returncode == 0, warned.stderr[-3000:]
    assert "assert_scored_indicators_belong_to_the_rubric" in _said(warned)
    assert run.query("select count(*) from marts.fct_observation_indicator_scores where is_off_rubric") == [
        (1,)
    ]
    # the row is kept: as many scores as the file has
    assert run.query("select count(*) from marts.fct_observation_indicator_scores") == run.query(
        "select count(*) from raw.observations__work__evaluations__indicators"
    )
    after = run.files()
    for name in ("2025/cohorts.jsonl", "2025/staffCohortAssociations.jsonl"):
        assert after[name] == runs["clean_files"][name], name


def test_a_violation_inside_the_export_is_an_error_for_that_record_only(runs: dict) -> None:
    run, warned = runs["run"], runs["warned"]
    assert warned.returncode == 0, warned.stderr[-3000:]
    summary = json.loads((run.output / "summary.json").read_text(encoding="utf-8"))
    errors = {(e["groupId"], e.get("userId"), e["code"]) for e in summary["errors"]}
    assert (UNKNOWN_GROUP, _first_member(runs["findings"]), "unknown_group") in errors
    assert (GRADE_3, UNKNOWN_USER, "unknown_user") in errors
    # the other cohorts and memberships are rendered as from the clean product
    assert run.files()["2025/cohorts.jsonl"] == runs["clean_files"]["2025/cohorts.jsonl"]


def _first_member(product: Path) -> str:
    line = (product / "users" / "users.groups.csv").read_text(encoding="utf-8").splitlines()[1]
    return next(csv.reader([line]))[0]


def test_strict_makes_the_first_warning_stop_the_run_and_nothing_is_published(runs: dict) -> None:
    run = runs["run"]
    before = run.files()
    stamp = run.warehouse.stat().st_mtime_ns
    strict = run.build(runs["findings"], STRICT="1")
    assert strict.returncode != 0
    assert "STRICT=1" in _said(strict)
    assert "users.roles" in _said(strict), "the message names the warning that stopped the run"
    assert "Traceback" not in strict.stderr
    assert run.files() == before
    assert run.warehouse.stat().st_mtime_ns == stamp


def test_a_key_repeated_with_other_content_stops_naming_the_table(runs: dict) -> None:
    run = runs["run"]
    product = run.root / "conflict"
    shutil.copytree(EXAMPLE_PRODUCT, product)
    roles = product / "users" / "users.roles.csv"
    first = next(csv.reader([roles.read_text(encoding="utf-8").splitlines()[1]]))
    _append(roles, [[*first[:3], "Superintendent"]])  # same parent and position, another value
    before = run.files()
    stamp = run.warehouse.stat().st_mtime_ns
    stopped = run.build(product)
    assert stopped.returncode != 0
    assert "users.roles" in _said(stopped)
    assert "Traceback" not in stopped.stderr
    assert run.files() == before
    assert run.warehouse.stat().st_mtime_ns == stamp
