"""ENGINE: where dbt builds the models. The pipeline calls these hooks; on `duckdb` (the default) each one
does nothing, so a DuckDB build is exactly what it was before engines existed.

`postgres`: the loader parses and lands raw in the build's DuckDB copy as always, `after_load` copies raw
into PostgreSQL (`pipeline.postgres.land_raw`), dbt builds there (`--target postgres`), and `before_render`
copies the `edfi` models back into the DuckDB copy, where the render, its state and its checks stay. The
staging and marts checks read the models on PostgreSQL (`expectations.sql.Models`); the Ed-Fi state is
copied there (`edfi_state`) with the build's models at `publish`, and after a send (`after_state_change`).
All or nothing there too: a build writes only `<schema>__next` schemas beside the live ones (raw and every
model schema); `publish` swaps them in, in one transaction, right before the DuckDB copy is swapped in, and
`discard` drops them when the build fails. Readers of the live schemas never see a half-built warehouse.

`spark` (pipeline/spark.py): `after_load` writes raw as Parquet into the build's Spark folder, dbt runs in
`.venv-spark` (`--target spark`), the staging and marts checks read the Parquet files Spark wrote
(`expectations.sql.SparkModels`), `before_render` reads the `edfi` models back into the DuckDB copy, and
`publish` / `discard` rename or remove the build's folder; the Ed-Fi state is written there as Parquet at
`publish` and after a send or resync (`after_state_change`).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from .config import Settings

if TYPE_CHECKING:
    from .build import RunSummary

log = logging.getLogger(__name__)

DEFAULT = "duckdb"
BUILD_SCHEMA_SUFFIX = "__next"  # a build's schemas on a shared engine: `raw__next`, `marts__next`, ...


def builds_beside_live(settings: Settings) -> bool:
    """A build (dbt on the build's DuckDB copy) on a shared engine: it must not touch the live schemas."""
    from .dbt import live_warehouse

    return settings.engine == "postgres" and live_warehouse(settings.warehouse) != settings.warehouse


def engine_vars(settings: Settings) -> dict[str, str]:
    """dbt vars of this engine: the build's schema suffix (macros/generate_schema_name.sql, and the
    sources' schemas: pipeline/codegen.py, RAW_SCHEMA); on Spark, the folder of raw's Parquet files
    (macros/register_spark_raw.sql)."""
    if settings.engine == "spark":
        from .spark import raw_dir

        return {"spark_raw_dir": str(raw_dir(settings))}
    return {"build_schema_suffix": BUILD_SCHEMA_SUFFIX} if builds_beside_live(settings) else {}


def dbt_target_args(args: Sequence[str], settings: Settings) -> list[str]:
    """The extra dbt arguments of this engine (`--target postgres`), with its connection variables
    exported for profiles.yml; none on DuckDB, or when `args` name a target or the command takes none."""
    from .dbt import accepts_option, option_given  # (pipeline.dbt imports this module)

    if (
        settings.engine == DEFAULT
        or option_given(args, "--target")
        or "-t" in args
        or not accepts_option(args, "--target")
    ):
        return []
    if settings.postgres is not None:
        os.environ.update(settings.postgres.environ())
    return ["--target", settings.engine]


def after_load(settings: Settings, summary: RunSummary) -> None:
    """Raw is landed in the DuckDB copy; put it where the engine's dbt reads it."""
    if settings.engine == "spark":
        from .spark import land_raw as land_raw_parquet

        with summary.timed("write raw as Parquet for Spark"):
            written = land_raw_parquet(settings)
        summary.figures["raw tables written as Parquet"] = len(written)
        return
    if settings.engine != "postgres":
        return
    from .postgres import land_raw

    with summary.timed("copy raw to PostgreSQL"):
        copied = land_raw(settings, schema_suffix=BUILD_SCHEMA_SUFFIX)
    summary.figures["raw tables copied to PostgreSQL"] = len(copied)


# Engines whose models the staging and marts checks read (expectations.sql.Models: DuckDB, PostgreSQL, and
# Spark's Parquet files read by DuckDB)
MODELS_VALIDATED_ON = (DEFAULT, "postgres", "spark")


def validate_models(settings: Settings, summary: RunSummary, validate: Callable[[str], None]) -> None:
    """The staging and marts checks read the models where dbt built them (`MODELS_VALIDATED_ON`)."""
    if settings.engine in MODELS_VALIDATED_ON:
        validate("staging")
        validate("marts")
        return
    summary.warn(
        f"ENGINE={settings.engine}: the Great Expectations staging and marts checks do not run on "
        f"{settings.engine} yet (dbt's own tests ran, and stop the build on an error)"
    )


def before_render(settings: Settings, summary: RunSummary) -> None:
    """The render reads the `edfi` models from the DuckDB copy: bring them there from the engine."""
    if settings.engine == "spark":
        from .spark import read_edfi as read_edfi_parquet

        with summary.timed("read edfi from Spark"):
            read_edfi_parquet(settings)
        return
    if settings.engine != "postgres":
        return
    from .postgres import read_edfi

    with summary.timed("read edfi from PostgreSQL"):
        read_edfi(settings, schema_suffix=BUILD_SCHEMA_SUFFIX)


def publish(settings: Settings) -> None:
    """Swap the build's schemas in (PostgreSQL: one transaction, the build's Ed-Fi state with the models;
    Spark: its folder); nothing on DuckDB."""
    if settings.engine == "spark":
        from .spark import publish as publish_folder

        publish_folder(settings)
    if builds_beside_live(settings):
        from .postgres import land_state, publish_schemas

        land_state(settings, BUILD_SCHEMA_SUFFIX)
        publish_schemas(settings, BUILD_SCHEMA_SUFFIX)


def after_state_change(settings: Settings) -> None:
    """A send or resync ended (and published the live DuckDB file when it changed the Ed-Fi state, the
    authoritative copy): copy that state to the engine's `edfi_state` (PostgreSQL; Spark: Parquet beside
    the live models); nothing on DuckDB."""
    if settings.engine == "spark":
        from .spark import write_state

        write_state(settings)
    if settings.engine == "postgres":
        from .postgres import copy_state

        copy_state(settings)


@contextlib.contextmanager
def discarded_on_failure(settings: Settings) -> Iterator[None]:
    """A run (`build`, `extract`) on the build's copy: when it fails, what it built on the engine
    (PostgreSQL's `__next` schemas) is dropped. If that fails too, the run's own error still reaches the
    user; the next run drops them before it lands raw."""
    try:
        yield
    except BaseException:
        try:
            discard(settings)
        except Exception as exc:  # noqa: BLE001 - the run's error is the one to report
            log.warning("could not drop the failed run's schemas on %s: %s", settings.engine, exc)
        raise


def discard(settings: Settings) -> None:
    """A failed build: drop its schemas (PostgreSQL) or its folder (Spark), the live ones untouched;
    nothing on DuckDB."""
    if settings.engine == "spark":
        from .spark import discard as discard_folder

        discard_folder(settings)
    if builds_beside_live(settings):
        from .postgres import discard_schemas

        discard_schemas(settings, BUILD_SCHEMA_SUFFIX)
