"""Run one layer's suite with Great Expectations, keep the results, update Data Docs, report.

Design (measured; see model.py): DuckDB computes every aggregate check of raw, staging and marts in
one pass per table; GX validates the small findings frame with one expectation per rule (a row
condition selects the rule's rows) and renders the results. The export layer is small by nature (one
row per cohort and membership), so GX validates the payload rows themselves with native expectations.

GX runs in an ephemeral context whose stores are folders under `<gx_dir>/uncommitted/` (git-ignored):
the suites and validation results persist there, so `make docs` (another process) renders the latest
validation of each layer; nothing of GX's configuration has to be committed or mutated at run time.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import duckdb

from extract.config import Settings
from extract.contract import PROJECT_ROOT

from .datadocs_assets import localize_data_docs
from .model import ERROR, INDEX_COLUMNS, WARNING, Failure, LayerBatch, Rule, ValidationReport, findings_frame

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


def rule_expectations(rules: tuple[Rule, ...], layer: str) -> list[Any]:
    """One GX expectation per rule over the findings frame: `failing` is 0 on the rule's rows."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.metadata_types import FailureSeverity
    from great_expectations.expectations.row_conditions import Column

    return [
        gxe.ExpectColumnValuesToBeBetween(
            column="failing",
            min_value=0,
            max_value=0,
            row_condition=Column("check") == r.check,
            description=f"{r.description} [{r.severity}]",
            notes=f"`failing` = {r.how}. Computed in DuckDB over the whole {layer} layer.",
            severity=FailureSeverity.CRITICAL if r.severity == ERROR else FailureSeverity.WARNING,
            meta={"check": r.check, "severity": r.severity, "layer": layer},
        )
        for r in rules
    ]


def _batch(layer: str, con: duckdb.DuckDBPyConnection, settings: Settings) -> LayerBatch:
    if layer == "raw":
        from . import raw as mod
    elif layer == "staging":
        from . import staging as mod
    elif layer == "marts":
        from . import marts as mod
    elif layer == "export":
        from . import export

        return export.batch(con, settings)
    else:
        raise ValidationSetupError(f"unknown layer {layer!r}: expected one of {', '.join(LAYERS)}")
    findings, context = mod.collect(con)
    return LayerBatch(
        layer=layer,
        frame=findings_frame(findings),
        expectations=rule_expectations(mod.RULES, layer),
        index_columns=INDEX_COLUMNS,
        subject=f"{layer} checks",
        context=context,
    )


def _severity(expectation_config: Any) -> str:
    meta = expectation_config.meta or {}
    if meta.get("severity") in (ERROR, WARNING):
        return meta["severity"]
    return ERROR if str(getattr(expectation_config, "severity", "critical")).endswith("critical") else WARNING


def _value(v: Any) -> Any:
    """A frame cell as Python: pandas gives NaN for a missing text."""
    return None if v is None or (isinstance(v, float) and v != v) else v


def _failures(batch: LayerBatch, result: Any) -> list[Failure]:
    """The report's failures, read from GX's verdicts (one per failing subject of a rule)."""
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
        if batch.index_columns == INDEX_COLUMNS:
            for item in res.get("unexpected_index_list") or []:
                out.append(
                    Failure(
                        batch.layer,
                        str(item.get("table")),
                        _value(item.get("column")) or None,
                        meta.get("check", cfg.type),
                        description,
                        severity,
                        int(_value(item.get("failing")) or 0),
                        int(_value(item.get("checked")) or 0),
                        _value(item.get("examples")) or None,
                    )
                )
        else:
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
                    examples
                    or (f"observed {res.get('observed_value')}" if "observed_value" in res else None),
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
    result: Any,
    run_at: dt.datetime,
) -> None:
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
    rows: list[list[Any]] = []
    if batch.index_columns == INDEX_COLUMNS:
        sev = {
            e.meta["check"]: (e.meta["severity"], e.description.rsplit(" [", 1)[0])
            for e in batch.expectations
        }
        for rec in batch.frame.to_dict("records"):
            severity, description = sev.get(rec["check"], (ERROR, rec["check"]))
            rows.append(
                [
                    report.run_id,
                    report.layer,
                    rec["table"],
                    rec["column"],
                    rec["check"],
                    description,
                    "expect_column_values_to_be_between",
                    severity,
                    rec["failing"] == 0,
                    rec["failing"],
                    rec["checked"],
                    rec["examples"],
                    run_at,
                ]
            )
    else:
        failing = {(f.check, f.column): f for f in report.failures}
        for r in result.results:
            cfg = r.expectation_config
            check = (cfg.meta or {}).get("check", cfg.type)
            f = failing.get((check, cfg.kwargs.get("column")))
            rows.append(
                [
                    report.run_id,
                    report.layer,
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
    if rows:  # one bulk insert: executemany is row by row in DuckDB (seconds for a thousand rows)
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


def validate_layer(layer: str, settings: Settings, *, gx_dir: Path | None = None) -> ValidationReport:
    """Validate one layer of the warehouse; results go to GX's store, Data Docs and `quality.*`."""
    if layer not in LAYERS:
        raise ValidationSetupError(f"unknown layer {layer!r}: expected one of {', '.join(LAYERS)}")
    if not Path(settings.warehouse).is_file():
        raise ValidationSetupError(
            f"the warehouse {settings.warehouse} does not exist: load the data product first"
        )
    t0 = time.perf_counter()
    gx_dir = Path(gx_dir or gx_dir_default()).resolve()
    run_at = dt.datetime.now(dt.UTC)
    run_id = f"{layer}-{run_at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    con = duckdb.connect(str(settings.warehouse))
    try:
        try:
            batch = _batch(layer, con, settings)
        except duckdb.Error as exc:  # e.g. a layer that was never built: say which and stop cleanly
            raise ValidationSetupError(f"{layer} layer: the checks could not be computed: {exc}") from exc
        import great_expectations as gx
        from great_expectations.core.run_identifier import RunIdentifier

        context = get_context(gx_dir)
        asset = context.data_sources.add_pandas(layer).add_dataframe_asset(re.sub(r"\W+", "_", batch.subject))
        definition = asset.add_batch_definition_whole_dataframe("latest")
        suite = context.suites.add_or_update(gx.ExpectationSuite(name=layer, expectations=batch.expectations))
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=layer, data=definition, suite=suite)
        )
        result = validation.run(
            batch_parameters={"dataframe": batch.frame},
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": batch.index_columns,
                "partial_unexpected_count": 20,
            },
            run_id=RunIdentifier(run_name=run_id, run_time=run_at),
        )
        failures = _failures(batch, result)
        total = len(batch.frame) if batch.index_columns == INDEX_COLUMNS else len(result.results)
        _prune(context, layer, gx_dir)
        docs = context.build_data_docs()
        localize_data_docs(data_docs_dir(gx_dir))
        report = ValidationReport(
            layer=layer,
            total=total,
            failures=failures,
            run_id=run_id,
            seconds=time.perf_counter() - t0,
            data_docs=str(docs.get("local_site", "")) or None,
        )
        _record(con, report, batch, result, run_at.replace(tzinfo=None))
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
