"""The example product as a built warehouse (real loader, real dbt, real Ed-Fi render), once per session.

Both GX test modules need it and dbt is the slow part, so the build is cached per pytest session under
its base temp folder (which pytest removes in turn).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path

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


@functools.cache
def built_example(root: Path) -> config.Settings:
    """Load the example product, `dbt build` it (models and data tests: the staging and marts suites read
    dbt's test results from the warehouse's dbt target folder; unit tests excluded) and render the Ed-Fi
    export into `root`."""
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
    render(settings, load_id=LOAD_ID)
    return settings
