"""The settings the Ed-Fi package reads, as an interface of its own.

Why a Protocol and not `pipeline.config.Settings`: `edfi` sits below `pipeline` (the orchestration imports
it, never the other way), so it names only the values it reads; the pipeline's `Settings` has them all and
is passed as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol


class EdfiSettings(Protocol):
    """What render, plan and send read from the run's settings."""

    @property
    def warehouse(self) -> Path: ...  # the DuckDB file holding the `edfi` models and `edfi_state`

    @property
    def edfi_output(self) -> Path: ...  # the output folder (JSONL, lightbeam.yaml, summary.json)

    @property
    def district_id(self) -> int | None: ...  # EDFI_DISTRICT_ID

    @property
    def school_years(self) -> tuple[int, ...] | None: ...  # EDFI_SCHOOL_YEARS

    @property
    def cohort_identifier_max_length(self) -> int: ...

    @property
    def resources(self) -> tuple[str, ...]: ...  # EDFI_RESOURCES

    @property
    def allow_deletes(self) -> int | None: ...  # EDFI_ALLOW_DELETES

    @property
    def delete_threshold(self) -> float: ...  # EDFI_DELETE_THRESHOLD

    @property
    def api_url(self) -> str | None: ...  # EDFI_API_URL

    @property
    def verify_ssl(self) -> bool: ...  # EDFI_VERIFY_SSL

    @property
    def secrets(self) -> Mapping[str, str]: ...  # EDFI_CLIENT_ID, EDFI_CLIENT_SECRET
