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


# `make test` runs with `--dist loadfile --no-loadscope-reorder`: pytest-xdist hands whole files to its
# two workers in collection order (without the option it orders them by their number of tests, which put the
# long files in the middle), so a long file collected last would run alone at the end while the other
# worker waits. The files go longest first (seconds of one worker, measured in a fresh clone on 2026-12-03:
# 115, 107, 104, 92, 79, 58, 49, 47, 42, 33, 23, 14; the example build's first user first, beside the
# PostgreSQL comparisons that need no example), the rest after them in their own order; the tests of a file
# keep theirs.
LONGEST_FIRST = (
    "test_expectations.py",
    "test_engine_postgres.py",
    "test_faults.py",
    "test_build.py",
    "test_load.py",
    "test_edfi_delivery.py",
    "test_staging.py",
    "test_severity.py",
    "test_marts.py",
    "test_docs_browser.py",
    "test_fetch.py",
    "test_dbt_worker.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # a stable sort
