"""Run one layer's suite with Great Expectations, keep the results, update Data Docs, report.

Design (measured; see README.md): raw, staging and marts produce findings, one per (table or model,
check), computed where the data is (DuckDB aggregates, dbt's own test results); each finding becomes one
GX expectation result, grouped by its table or model, so the Data Docs page of a layer has one section per
table with that table's checks. The export layer is small by nature (one row per cohort and membership),
so GX's validator checks the payload rows themselves with native expectations.

GX runs in an ephemeral context whose stores are folders under `<gx_dir>/uncommitted/` (git-ignored):
the suites and validation results persist there, so `make docs` (another process) renders the latest
validation of each layer; nothing of GX's configuration has to be committed or mutated at run time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import duckdb

from extract.contract import PROJECT_ROOT
from extract.warehouse import open_warehouse, transaction
from pipeline.config import Settings

from .datadocs_assets import localize_data_docs
from .model import ERROR, WARNING, Failure, Finding, LayerBatch, Rule, ValidationReport

LAYERS = ("raw", "staging", "marts", "export")
DEFAULT_GX_DIR = PROJECT_ROOT / "expectations" / "gx"
KEEP_RUNS = 10  # validation results kept per layer (older ones and their pages are pruned)
QUALITY_SCHEMA = "quality"

_QUALITY_DDL = (
    f"create schema if not exists {QUALITY_SCHEMA}",
    f"""create table if not exists {QUALITY_SCHEMA}.validation_runs (
        run_id varchar primary key, layer varchar not null, load_id varchar, run_at timestamp not null,
        seconds double not null, success boolean not null, errors integer not null, warnings integer not null,
        total integer not null, data_docs varchar)""",
    f"""create table if not exists {QUALITY_SCHEMA}.table_profiles (
        run_id varchar not null, layer varchar not null, load_id varchar, table_name varchar not null,
        row_count bigint not null, newest_updated_at timestamp, run_at timestamp not null)""",
    f"""create table if not exists {QUALITY_SCHEMA}.validation_results (
        run_id varchar not null, layer varchar not null, table_name varchar, column_name varchar,
        check_name varchar not null, expectation varchar not null, expectation_type varchar not null,
        severity varchar not null, success boolean not null, unexpected_count bigint not null,
        checked bigint, examples varchar, run_at timestamp not null)""",
)


_RESULT_COLUMNS = [
    "run_id",
    "layer",
    "table_name",
    "column_name",
    "check_name",
    "expectation",
    "expectation_type",
    "severity",
    "success",
    "unexpected_count",
    "checked",
    "examples",
    "run_at",
]


def defer_scipy_stats() -> None:
    """Make `scipy.stats` load on first use instead of when GX is imported.

    GX imports it at module level (`from scipy import stats`) for the distribution expectations (KL
    divergence, KS tests) that no suite here uses; it was ~0.8 s of GX's ~2.6 s import on this 2-core
    machine, paid by every build process. With the standard library's `LazyLoader` the module object
    exists at once and runs its code the first time an attribute of it is read, so a suite that did use
    those expectations would still get the real module. Call before GX is imported (idempotent)."""
    if "scipy.stats" in sys.modules:
        return
    import importlib.util

    try:
        spec = importlib.util.find_spec("scipy.stats")
    except ImportError:
        return
    if spec is None or spec.loader is None:
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["scipy.stats"] = module
    spec.loader.exec_module(module)
    sys.modules["scipy"].stats = module  # what `from scipy import stats` reads


def _preload_gx() -> None:
    """Import GX (~2 s, most of its cost on a small product) in a thread while DuckDB computes the
    layer's findings (DuckDB releases the GIL): the first layer then waits for what is left of it."""
    import importlib
    import threading

    defer_scipy_stats()

    def load() -> None:
        with contextlib.suppress(Exception):  # the main thread imports it again and reports the error
            importlib.import_module("great_expectations")

    threading.Thread(target=load, name="import-great-expectations", daemon=True).start()


class ValidationSetupError(RuntimeError):
    """The layer cannot be validated at all (unknown layer, warehouse missing)."""


def gx_dir_default() -> Path:
    return Path(os.environ.get("GX_DIR", "") or DEFAULT_GX_DIR).resolve()


def _store(root: Path, cls: str, base: str) -> dict[str, Any]:
    return {
        "class_name": cls,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "root_directory": str(root),
            "base_directory": base,
        },
    }


def get_context(gx_dir: Path):
    """An ephemeral GX context with folder-backed suites, results and Data Docs under gx_dir/uncommitted."""
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    defer_scipy_stats()
    import great_expectations as gx
    from great_expectations.data_context.types.base import DataContextConfig, ProgressBarsConfig

    config = DataContextConfig(
        stores={
            "expectations_store": _store(gx_dir, "ExpectationsStore", "uncommitted/expectations/"),
            "validation_results_store": _store(gx_dir, "ValidationResultsStore", "uncommitted/validations/"),
            "checkpoint_store": {
                "class_name": "CheckpointStore",
                "store_backend": {"class_name": "InMemoryStoreBackend"},
            },
            "validation_definition_store": {
                "class_name": "ValidationDefinitionStore",
                "store_backend": {"class_name": "InMemoryStoreBackend"},
            },
        },
        expectations_store_name="expectations_store",
        validation_results_store_name="validation_results_store",
        checkpoint_store_name="checkpoint_store",
        data_docs_sites={
            "local_site": {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "root_directory": str(gx_dir),
                    "base_directory": "uncommitted/data_docs/local_site/",
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def data_docs_dir(gx_dir: Path) -> Path:
    return gx_dir / "uncommitted" / "data_docs" / "local_site"


def data_docs_url(gx_dir: Path) -> str:
    """The Data Docs index page's address (the one GX names for the site: its folder, as a file URI)."""
    return (data_docs_dir(gx_dir) / "index.html").as_uri()


def rule_expectations(rules: tuple[Rule, ...], layer: str) -> list[Any]:
    """The layer's suite as GX shows it: one expectation per rule (`failing` is 0 on every subject)."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.metadata_types import FailureSeverity

    return [
        gxe.ExpectColumnValuesToBeBetween(
            column="failing",
            min_value=0,
            max_value=0,
            description=f"{r.description} [{r.severity}]",
            notes=f"`failing` = {r.how}. Computed over the whole {layer} layer, per table or model.",
            severity=FailureSeverity.CRITICAL if r.severity == ERROR else FailureSeverity.WARNING,
            meta={"check": r.check, "severity": r.severity, "layer": layer},
        )
        for r in rules
    ]


def _batch(layer: str, con: duckdb.DuckDBPyConnection, settings: Settings) -> LayerBatch:
    if layer == "raw":
        from . import raw

        findings, context = raw.collect(con)
        rules = raw.RULES
    elif layer in ("staging", "marts"):  # read where dbt built them (ENGINE=postgres: PostgreSQL)
        from . import marts, staging
        from .sql import models_for

        suite = staging if layer == "staging" else marts
        with models_for(settings, con) as models:
            try:
                findings, context = suite.collect(con, settings, models)
            except models.errors as exc:
                raise ValidationSetupError(
                    f"{layer} layer: the checks could not be computed on {settings.engine}: "
                    f"{str(exc).strip()}"
                ) from exc
        rules = suite.RULES
    elif layer == "export":
        from . import export

        return export.batch(con, settings)
    else:
        raise ValidationSetupError(f"unknown layer {layer!r}: expected one of {', '.join(LAYERS)}")
    subject = {"raw": "raw tables", "staging": "staging models", "marts": "marts models"}[layer]
    return LayerBatch(layer=layer, subject=subject, rules=rules, findings=findings, context=context)


def _judged(batch: LayerBatch, f: Finding) -> tuple[str, str]:
    """A finding's severity and description: its own (dbt tests), else its rule's."""
    rule = next((r for r in batch.rules if r.check == f.check), None)
    severity = f.severity or (rule.severity if rule else ERROR)
    description = f.description or (rule.description if rule else f.check)
    return severity, description


def _finding_failures(batch: LayerBatch) -> list[Failure]:
    out = []
    for f in batch.findings:
        if f.failing:
            severity, description = _judged(batch, f)
            out.append(
                Failure(
                    batch.layer,
                    f.table,
                    f.column,
                    f.check,
                    description,
                    severity,
                    f.failing,
                    f.checked,
                    f.examples,
                )
            )
    return out


def _findings_result(batch: LayerBatch, run_id: Any, success: bool) -> Any:
    """The layer's findings as one GX validation result, grouped by table or model (GX's Data Docs make
    one section per `column` argument: here the table). In each section, one line per failing check and
    one line naming the checks that pass: GX serializes and renders ~5 ms per result, so a line per
    passing check would cost seconds per layer for nothing a reader needs."""
    passing: dict[str, list[str]] = {}
    failing: dict[str, list[Any]] = {}
    for f in batch.findings:
        severity, description = _judged(batch, f)
        where = f"{f.column}: " if f.column and f.check != "dbt_test" else ""
        if not f.failing:
            passing.setdefault(f.table, []).append(f"{where}{description}")
            continue
        of = f" of {f.checked:,}" if f.checked else ""
        observed = f"{f.failing:,} failing{of}" + (f"; e.g. {f.examples}" if f.examples else "")
        failing.setdefault(f.table, []).append(
            _table_result(
                batch, f.table, f"{where}{description} [{severity}]", observed, False, {"check": f.check}
            )
        )
    results = []
    for table in dict.fromkeys([*failing, *passing]):
        results += failing.get(table, [])
        if table in passing:
            names = passing[table]
            results.append(
                _table_result(
                    batch, table, f"{len(names)} check(s) pass: " + "; ".join(names), "0 failing", True, {}
                )
            )
    return _suite_result(batch, run_id, success, results)


def _table_result(
    batch: LayerBatch, table: str, description: str, observed: str, ok: bool, meta: dict[str, Any]
) -> Any:
    """One line of a table's section in the Data Docs."""
    from great_expectations.core.expectation_validation_result import ExpectationValidationResult
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    config = ExpectationConfiguration(
        type="expect_column_values_to_be_between",
        kwargs={"column": table, "min_value": 0, "max_value": 0},
        description=description,
        meta={"layer": batch.layer, **meta},
    )
    return ExpectationValidationResult(
        success=ok, expectation_config=config, result={"observed_value": observed}
    )


def _suite_result(batch: LayerBatch, run_id: Any, success: bool, results: list[Any]) -> Any:
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult

    ok = sum(1 for r in results if r.success)
    return ExpectationSuiteValidationResult(
        success=success,
        results=results,
        suite_name=batch.layer,
        statistics={
            "evaluated_expectations": len(results),
            "successful_expectations": ok,
            "unsuccessful_expectations": len(results) - ok,
            "success_percent": 100.0 * ok / len(results) if results else 100.0,
        },
        meta={
            "great_expectations_version": gx.__version__,
            "run_id": run_id,
            "batch_spec": {"data_asset_name": batch.subject},
            "active_batch_definition": {
                "datasource_name": batch.layer,
                "data_asset_name": batch.subject,
                "batch_definition_name": "latest",
            },
        },
        batch_id=_batch_id(batch),
    )


def _batch_id(batch: LayerBatch) -> str:
    return f"{batch.layer}-" + re.sub(r"\W+", "_", batch.subject)


def _severity(expectation_config: Any) -> str:
    meta = expectation_config.meta or {}
    if meta.get("severity") in (ERROR, WARNING):
        return meta["severity"]
    return ERROR if str(getattr(expectation_config, "severity", "critical")).endswith("critical") else WARNING


def _failures(batch: LayerBatch, result: Any) -> list[Failure]:
    """The export's failures, read from GX's verdicts (one per failing expectation)."""
    out: list[Failure] = []
    for r in result.results:
        if r.success:
            continue
        cfg = r.expectation_config
        meta = cfg.meta or {}
        severity = _severity(cfg)
        description = (cfg.description or cfg.type).removesuffix(f" [{severity}]")
        res = r.result or {}
        if r.exception_info and r.exception_info.get("raised_exception"):
            out.append(
                Failure(
                    batch.layer,
                    batch.subject,
                    None,
                    meta.get("check", cfg.type),
                    description,
                    severity,
                    1,
                    None,
                    str(r.exception_info.get("exception_message"))[:300],
                )
            )
            continue
        items = res.get("partial_unexpected_index_list") or []
        examples = "; ".join(
            ", ".join(f"{k}={v}" for k, v in item.items() if v is not None and str(v) != "nan")
            for item in items[:5]
        )
        failing = int(res.get("unexpected_count") or (0 if "observed_value" not in res else 1))
        out.append(
            Failure(
                batch.layer,
                meta.get("table", batch.subject),
                cfg.kwargs.get("column"),
                meta.get("check", cfg.type),
                description,
                severity,
                max(failing, 1),
                res.get("element_count"),
                examples or (f"observed {res.get('observed_value')}" if "observed_value" in res else None),
            )
        )
    return out


def _prune(context: Any, suite_name: str, gx_dir: Path) -> None:
    """Keep the latest KEEP_RUNS results of a layer (and their pages): Data Docs show the latest first."""
    store = context.validation_results_store
    keys = [k for k in store.list_keys() if k.expectation_suite_identifier.name == suite_name]
    keys.sort(key=lambda k: str(k.run_id.run_time), reverse=True)
    pages = data_docs_dir(gx_dir) / "validations" / suite_name
    for key in keys[KEEP_RUNS:]:
        store.remove_key(key)
        run_dir = pages / str(key.run_id.run_name or "__none__") / key.run_id.to_tuple()[1]
        shutil.rmtree(run_dir, ignore_errors=True)


def _record(
    con: duckdb.DuckDBPyConnection,
    report: ValidationReport,
    batch: LayerBatch,
    rows: list[list[Any]],
    run_at: dt.datetime,
) -> None:
    """Keep the run, its rows of `validation_results` (one per check) and the table profiles in the
    warehouse's `quality` schema, in one transaction: all of the run or none of it, and one commit instead
    of one per statement (a layer's ~90 profiles: 0.11-0.14 s autocommitted, 0.07 s in one transaction)."""
    with transaction(con):
        for ddl in _QUALITY_DDL:
            con.execute(ddl)
        con.execute(
            f"insert into {QUALITY_SCHEMA}.validation_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                report.run_id,
                report.layer,
                batch.context.get("load_id"),
                run_at,
                report.seconds,
                report.success,
                report.errors,
                report.warnings,
                report.total,
                report.data_docs,
            ],
        )
        for profile in batch.context.get("profiles") or []:  # what the next load's volume checks compare with
            con.execute(
                f"insert into {QUALITY_SCHEMA}.table_profiles values (?, ?, ?, ?, ?, ?, ?)",
                [
                    report.run_id,
                    report.layer,
                    batch.context.get("load_id"),
                    profile.table,
                    profile.rows,
                    profile.newest_updated_at,
                    run_at,
                ],
            )
        if rows:  # one bulk insert: executemany is row by row in DuckDB (seconds for a thousand rows)
            _insert_results(con, rows)


def _finding_rows(report: ValidationReport, batch: LayerBatch, run_at: dt.datetime) -> list[list[Any]]:
    """validation_results rows of a layer checked by our own SQL (one per finding)."""
    rows: list[list[Any]] = []
    for f in batch.findings:
        severity, description = _judged(batch, f)
        rows.append(
            [
                report.run_id,
                report.layer,
                f.table,
                f.column,
                f.check,
                description,
                "expect_column_values_to_be_between",
                severity,
                f.failing == 0,
                f.failing,
                f.checked,
                f.examples,
                run_at,
            ]
        )
    return rows


def _expectation_rows(
    run_id: str, batch: LayerBatch, failures: list[Failure], result: Any, run_at: dt.datetime
) -> list[list[Any]]:
    """validation_results rows of a layer checked by GX's own expectations (one per expectation)."""
    rows: list[list[Any]] = []
    failing = {(f.check, f.column): f for f in failures}
    for r in result.results:
        cfg = r.expectation_config
        check = (cfg.meta or {}).get("check", cfg.type)
        f = failing.get((check, cfg.kwargs.get("column")))
        rows.append(
            [
                run_id,
                batch.layer,
                (cfg.meta or {}).get("table", batch.subject),
                cfg.kwargs.get("column"),
                check,
                (cfg.description or cfg.type).rsplit(" [", 1)[0],
                cfg.type,
                _severity(cfg),
                bool(r.success),
                f.failing if f else 0,
                (r.result or {}).get("element_count"),
                f.examples if f else None,
                run_at,
            ]
        )
    return rows


def _insert_results(con: duckdb.DuckDBPyConnection, rows: list[list[Any]]) -> None:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=_RESULT_COLUMNS).astype({"unexpected_count": "int64"})
    con.register("_validation_results_frame", frame)
    try:
        con.execute(
            f"insert into {QUALITY_SCHEMA}.validation_results ({', '.join(_RESULT_COLUMNS)}) "
            f"select {', '.join(_RESULT_COLUMNS)} from _validation_results_frame"
        )
    finally:
        con.unregister("_validation_results_frame")


def _run_expectations(context: Any, batch: LayerBatch, settings: Settings, run: Any) -> Any:
    """GX's validator on the export's payload frame (stored by GX itself)."""
    import great_expectations as gx

    from . import export

    expectations = export.expectations(settings)  # the one layer GX checks row by row
    asset = context.data_sources.add_pandas(batch.layer).add_dataframe_asset(_batch_id(batch))
    definition = asset.add_batch_definition_whole_dataframe("latest")
    suite = context.suites.add_or_update(gx.ExpectationSuite(name=batch.layer, expectations=expectations))
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=batch.layer, data=definition, suite=suite)
    )
    return validation.run(
        batch_parameters={"dataframe": batch.frame},
        result_format={
            "result_format": "COMPLETE",
            "unexpected_index_column_names": batch.index_columns,
            "partial_unexpected_count": 20,
        },
        run_id=run,
    )


def _keep(context: Any, batch: LayerBatch, result: Any, run: Any, gx_dir: Path) -> None:
    """Keep the suite and the result in GX's stores (the export's validation run stored its own), then
    only the layer's latest KEEP_RUNS results (`_prune`)."""
    import great_expectations as gx
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    if batch.frame is None:  # the export's suite and result were stored by GX's validation run
        expectations = rule_expectations(batch.rules, batch.layer)
        context.suites.add_or_update(gx.ExpectationSuite(name=batch.layer, expectations=expectations))
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=batch.layer),
            run_id=run,
            batch_identifier=result.batch_id or _batch_id(batch),
        )
        context.validation_results_store.set(key, result)
    _prune(context, batch.layer, gx_dir)


def _unrendered(context: Any, gx_dir: Path) -> list[Any]:
    """The stored results without a Data Docs page yet, and every suite (small): what a build renders."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    pages = data_docs_dir(gx_dir) / "validations"
    keys: list[Any] = [
        ExpectationSuiteIdentifier(name=k.name) for k in context.expectations_store.list_keys()
    ]
    for key in context.validation_results_store.list_keys():
        *parts, batch_identifier = key.to_tuple()
        if not pages.joinpath(*parts, f"{batch_identifier}.html").is_file():
            keys.append(key)
    return keys


def store_findings(batch: LayerBatch, run_id: str, run_at: dt.datetime, gx_dir: Path, success: bool) -> None:
    """GX's part of a layer checked by findings (raw, staging, marts): its suite and its result, one
    section per table or model, kept in GX's stores (the latest KEEP_RUNS per layer)."""
    from great_expectations.core.run_identifier import RunIdentifier

    context = get_context(gx_dir)
    run = RunIdentifier(run_name=run_id, run_time=run_at)
    result = _findings_result(batch, run, success=success)
    _keep(context, batch, result, run, gx_dir)


def check_frame(
    batch: LayerBatch, settings: Settings, run_id: str, run_at: dt.datetime, gx_dir: Path
) -> tuple[list[Failure], int, list[list[Any]]]:
    """GX's validator on the export's payloads: the failures, how many expectations, the rows of
    `quality.validation_results`; the suite and result are kept in GX's stores."""
    from great_expectations.core.run_identifier import RunIdentifier

    context = get_context(gx_dir)
    run = RunIdentifier(run_name=run_id, run_time=run_at)
    result = _run_expectations(context, batch, settings, run)
    failures = _failures(batch, result)
    _keep(context, batch, result, run, gx_dir)
    rows = _expectation_rows(run_id, batch, failures, result, run_at.replace(tzinfo=None))
    return failures, len(result.results), rows


def render_data_docs(gx_dir: Path) -> None:
    """Render the Data Docs pages of every stored result without one yet (and the index, at
    `data_docs_url`), styled from the vendored assets."""
    context = get_context(gx_dir)
    context.build_data_docs(resource_identifiers=_unrendered(context, gx_dir))
    localize_data_docs(data_docs_dir(gx_dir))


class GxRunner(Protocol):
    """Where GX's part of a layer runs: `InProcess` here, or a build's `expectations.worker.GxWorker`."""

    in_process: bool

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future: ...


class InProcess:
    """Runs GX's part of a layer here, at once (`validate_layer` on its own, `make docs`, the tests); a
    build hands a `expectations.worker.GxWorker` instead, which runs it in a process of its own."""

    in_process = True

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # raised where the caller reads the result, as from a worker
            future.set_exception(exc)
        return future


def validate_layer(
    layer: str,
    settings: Settings,
    *,
    gx_dir: Path | None = None,
    data_docs: bool | None = None,
    gx: GxRunner | None = None,
) -> ValidationReport:
    """Validate one layer of the warehouse; results go to GX's store, Data Docs and `quality.*`.

    Data Docs are rendered once per build, not per layer (GX's renderer has a fixed cost of ~1 s per call):
    by default after the last layer (export) or when this layer stops the build; `data_docs=True` or
    `False` decides instead. Each rendering adds the pages of every result not rendered yet.

    `gx` runs GX's part (`store_findings`, `check_frame`, `render_data_docs`): here by default, or a
    build's `GxWorker`, in which case the findings' results are stored and the Data Docs rendered while
    the build goes on (the worker's `finish` waits for them); the verdicts are the same either way."""
    if layer not in LAYERS:
        raise ValidationSetupError(f"unknown layer {layer!r}: expected one of {', '.join(LAYERS)}")
    if not Path(settings.warehouse).is_file():
        raise ValidationSetupError(
            f"the warehouse {settings.warehouse} does not exist: load the data product first"
        )
    t0 = time.perf_counter()
    gx = gx or InProcess()
    gx_dir = Path(gx_dir or gx_dir_default()).resolve()
    run_at = dt.datetime.now(dt.UTC)
    run_id = f"{layer}-{run_at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    con = open_warehouse(settings.warehouse)
    try:
        if gx.in_process and "great_expectations" not in sys.modules:
            _preload_gx()
        try:
            batch = _batch(layer, con, settings)
        except duckdb.Error as exc:  # e.g. a layer that was never built: say which and stop cleanly
            raise ValidationSetupError(f"{layer} layer: the checks could not be computed: {exc}") from exc
        if batch.frame is None:
            failures = _finding_failures(batch)
            total = len(batch.findings)
            success = not any(f.severity == ERROR for f in failures)
            gx.submit(store_findings, batch, run_id, run_at, gx_dir, success)
            rows = None
        else:
            checked = replace(settings, secrets={})  # what the export's expectations read; no secret
            failures, total, rows = gx.submit(check_frame, batch, checked, run_id, run_at, gx_dir).result()
        docs = None
        if (
            data_docs
            if data_docs is not None
            else (layer == LAYERS[-1] or any(f.severity == ERROR for f in failures))
        ):
            rendered = gx.submit(render_data_docs, gx_dir)
            if gx.in_process:
                rendered.result()  # a failure here, as before; a worker's surfaces at its `finish`
            docs = data_docs_url(gx_dir)
        report = ValidationReport(
            layer=layer,
            total=total,
            failures=failures,
            run_id=run_id,
            seconds=time.perf_counter() - t0,
            data_docs=docs,
        )
        naive_at = run_at.replace(tzinfo=None)
        if rows is None:
            rows = _finding_rows(report, batch, naive_at)
        _record(con, report, batch, rows, naive_at)
    finally:
        con.close()
    return report


def summary_json(report: ValidationReport) -> str:
    """A machine-readable summary (for CI logs)."""
    return json.dumps(
        {
            "layer": report.layer,
            "errors": report.errors,
            "warnings": report.warnings,
            "total": report.total,
            "run_id": report.run_id,
            "failures": [f.__dict__ for f in report.failures],
        },
        indent=2,
    )
