"""The example product as a built warehouse (real loader, real dbt, real Ed-Fi render), once per session.

Every module that reads the example as `make build` models it (the GX and docs modules, the marts, the
analyst marts, the default Ed-Fi export, dbt's unit tests) starts from this one build: dbt is the slow part
of the suite. It is built once per pytest session in the session's temp folder (which pytest removes in
turn): under pytest-xdist the first worker that needs it builds it while the others wait on a file lock.
Each module then works on its own copy (it validates into it, runs dbt on it, breaks it), so no two
processes ever open the same DuckDB file.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from edfi.render import render
from extract.load import load_product
from pipeline import config
from pipeline.dbt import run_dbt

EXAMPLE = Path(__file__).parent / "fixtures" / "example_product"
DISTRICT_ID = 3100042
SCHOOL_YEARS = (2024, 2025)
LOAD_ID = "example-load"


def settings_for(warehouse: Path, out: Path) -> config.Settings:
    return dataclasses.replace(
        config.from_env({}),
        warehouse=warehouse,
        edfi_output=out / "edfi",
        landing=out / "landing",
        district_id=DISTRICT_ID,
        school_years=SCHOOL_YEARS,
    )


def built_example(tmp_path_factory: pytest.TempPathFactory, name: str) -> config.Settings:
    """A copy of the built example (`_build`) in a new temp folder `name`: built once per session,
    whichever worker asks first, in the session's folder (beside the workers' own base temp folders).

    The copy keeps the warehouse's file name and dbt's folder beside it (`warehouse.duckdb.dbt/`: dbt's
    results of the build in `target-live/`), so dbt on the copy starts from the build's partial parse."""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "example-build"
    with open(shared.parent / f"{shared.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or the worker dies
        if not (shared / "built").exists():
            shutil.rmtree(shared, ignore_errors=True)  # a worker that died half way
            _build(shared)
            (shared / "built").touch()
    root = tmp_path_factory.mktemp(name)
    shutil.copytree(shared, root, ignore=shutil.ignore_patterns("built", "logs"), dirs_exist_ok=True)
    return settings_for(root / "warehouse.duckdb", root)


def _build(root: Path) -> None:
    """Load the example product, `dbt build` it (models and data tests: the staging and marts suites read
    dbt's test results from the warehouse's dbt target folder; unit tests excluded) and render the Ed-Fi
    export into `root/edfi` (the render's folder renamed into place, as a build's publish step does)."""
    root.mkdir(parents=True, exist_ok=True)
    settings = settings_for(root / "warehouse.duckdb", root)
    before = os.environ.get("WAREHOUSE")  # run_dbt points dbt at the warehouse through the environment
    try:
        load_product(EXAMPLE, settings.warehouse, load_id=LOAD_ID)
        run_dbt(
            ["build", "--exclude-resource-type", "unit_test"],
            settings,
            quiet=True,
        )
    finally:
        if before is None:
            os.environ.pop("WAREHOUSE", None)
        else:
            os.environ["WAREHOUSE"] = before
    render(settings, load_id=LOAD_ID).staging_dir.rename(settings.edfi_output)
    con = duckdb.connect(str(settings.warehouse))  # dbt (in-process) may keep it open: flush the WAL
    try:
        con.execute("force checkpoint")
    finally:
        con.close()
