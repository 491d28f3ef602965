"""Run settings, from the environment (the Makefile passes its variables through).

Secrets (SFTP password, key passphrase) are read here and nowhere else, and never appear in `repr`,
logs or the load manifest.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .contract import PROJECT_ROOT

DEFAULT_WAREHOUSE = PROJECT_ROOT / "warehouse" / "edreflect.duckdb"
DEFAULT_OUTPUT = PROJECT_ROOT / "output" / "edfi"
DEFAULT_LANDING = PROJECT_ROOT / "landing"
# The embedded sample product: generated into this folder when DATA_PRODUCT is not set.
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
SAMPLE_SEED = 20250701
SAMPLE_EDUCATORS = 60
# The embedded sample's own district (a made-up Nebraska-style state district number) and years.
SAMPLE_DISTRICT_ID = 3100042
SAMPLE_SCHOOL_YEARS = (2024, 2025)


class ConfigError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    data_product: str | None  # folder or sftp:// URL; None = the embedded sample
    warehouse: Path
    edfi_output: Path
    landing: Path
    district_id: int | None
    school_years: tuple[int, ...] | None
    cohort_identifier_max_length: int = 20
    secrets: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def uses_sample(self) -> bool:
        return not self.data_product


def _int_env(name: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None


def from_env(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    district = env.get("EDFI_DISTRICT_ID", "").strip()
    years = env.get("EDFI_SCHOOL_YEARS", "").strip()
    max_len = env.get("EDFI_COHORT_ID_MAX_LENGTH", "").strip()
    return Settings(
        data_product=env.get("DATA_PRODUCT", "").strip() or None,
        warehouse=Path(env.get("WAREHOUSE", "").strip() or DEFAULT_WAREHOUSE).resolve(),
        edfi_output=Path(env.get("EDFI_OUTPUT", "").strip() or DEFAULT_OUTPUT).resolve(),
        landing=Path(env.get("LANDING_DIR", "").strip() or DEFAULT_LANDING).resolve(),
        district_id=_int_env("EDFI_DISTRICT_ID", district) if district else None,
        school_years=tuple(_int_env("EDFI_SCHOOL_YEARS", y) for y in years.split(",") if y.strip())
        if years
        else None,
        cohort_identifier_max_length=_int_env("EDFI_COHORT_ID_MAX_LENGTH", max_len) if max_len else 20,
        secrets={k: env[k] for k in ("SFTP_PASSWORD", "SFTP_KEY_PASSPHRASE") if env.get(k)},
    )
