"""Run dbt in-process (dbtRunner) against the configured warehouse."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

from .config import Settings
from .contract import PROJECT_ROOT


class DbtError(RuntimeError):
    pass


def dbt_vars(settings: Settings) -> dict[str, object]:
    return {
        "edfi_district_id": settings.district_id,
        "edfi_school_years": list(settings.school_years or ()),
        "edfi_cohort_identifier_max_length": settings.cohort_identifier_max_length,
        # the local dates of the analyst marts; an IANA zone name, read here (not a pipeline setting)
        "district_timezone": os.environ.get("DISTRICT_TIMEZONE") or "America/Chicago",
    }


def _release_warehouse() -> None:
    """dbt-duckdb keeps its DuckDB instance open in this process after a run. Close it: the file is then
    checkpointed (whole without its write-ahead log, ready to be renamed into place), and later
    connections of this process open the file now at the path instead of a cached, renamed one."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    DuckDBConnectionManager.close_all_connections()


def run_dbt(args: Sequence[str], settings: Settings, *, quiet: bool = False) -> object:
    """`dbt <args>` with the project, profile, warehouse and Ed-Fi vars of this run; raises on failure."""
    from dbt.cli.main import dbtRunner

    os.environ["WAREHOUSE"] = str(settings.warehouse)
    os.environ.setdefault("DBT_PROFILES_DIR", str(PROJECT_ROOT))
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    full = [
        *args,
        "--project-dir",
        str(PROJECT_ROOT),
        "--profiles-dir",
        str(PROJECT_ROOT),
    ]
    if args and args[0] in {"build", "run", "test", "seed", "compile", "docs", "show"}:
        full += ["--vars", json.dumps(dbt_vars(settings))]
    if quiet:
        full = ["--quiet", *full]
    try:
        res = dbtRunner().invoke(full)
    finally:
        _release_warehouse()
    if not res.success:
        failed = []
        if res.result is not None and hasattr(res.result, "results"):
            for r in res.result.results:
                if str(r.status) in {"error", "fail"}:
                    failed.append(f"{r.node.unique_id}: {r.message}")
        detail = "\n  ".join(failed) if failed else str(res.exception or "see the dbt log above")
        raise DbtError(f"dbt {' '.join(args)} failed:\n  {detail}")
    return res.result
