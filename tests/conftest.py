"""Shared pytest configuration. Fixtures live in the test modules or in tests/_*.py helper modules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PRODUCT = PROJECT_ROOT / "tests" / "fixtures" / "example_product"

# dbt and the pipeline read these; make sure a developer's own settings never leak into a test run.
for _var in (
    "DATA_PRODUCT",
    "WAREHOUSE",
    "EDFI_OUTPUT",
    "EDFI_DISTRICT_ID",
    "EDFI_SCHOOL_YEARS",
    "LANDING_DIR",
    "DBT_PARSE_CACHE_DIR",
):
    os.environ.pop(_var, None)
os.environ.setdefault("DBT_PROFILES_DIR", str(PROJECT_ROOT))
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


@pytest.fixture(scope="session")
def example_product() -> Path:
    return EXAMPLE_PRODUCT
