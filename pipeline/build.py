"""The main job: fetch -> land raw -> validate -> dbt -> validate -> render Ed-Fi -> validate -> publish.

Everything happens in a private copy of the warehouse (`pipeline.warehouse`); each layer is validated right
after it is built. A failure anywhere discards the copy: the live warehouse, the Ed-Fi output folder and
the delivery state stay exactly as they were, for readers too.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table as RichTable

from . import config as cfg
from . import engines
from .config import Settings
from .progress import Stage, console, say_dbt_log, stage

if TYPE_CHECKING:
    from expectations.worker import GxWorker

    from .dbt_worker import DbtForBuild
    from .warehouse import Workspace


# what a build runs of dbt; its unit tests test the SQL, not the delivery: `make test` runs them
DBT_BUILD = ("build", "--exclude-resource-type", "unit_test")


class PipelineError(RuntimeError):
    """A stage failed; the message is what the user needs to read."""


@dataclass
class RunSummary:
    load_id: str
    stages: dict[str, float] = field(default_factory=dict)
    figures: dict[str, object] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    strict: bool = False  # STRICT=1: every warning is an error

    def warn(self, message: str) -> None:
        """A warning is listed once, at the end of the run (after the stages' progress lines, before the
        summary table), not only counted. With STRICT=1 it is an error: the run stops at the first one,
        before anything is published."""
        self.warnings.append(message)
        if self.strict:
            raise PipelineError(
                f"STRICT=1 makes every warning an error, and this run stopped at its first one (nothing was "
                f"published):\n  {message}\nFix it, or run without STRICT to publish with warnings."
            )

    @contextlib.contextmanager
    def timed(self, name: str, unit: str = "") -> Iterator[Stage]:
        """A stage: its progress line on the terminal while it runs, its time in the summary."""
        t0 = time.perf_counter()
        try:
            with stage(name, unit) as handle:
                yield handle
        finally:
            self.stages[name] = time.perf_counter() - t0

    def render(self) -> None:
        for w in self.warnings:
            console.print(f"[yellow]warning: {w}")
        table = RichTable(title="edreflect-edfi build summary")
        table.add_column("what")
        table.add_column("value", justify="right")
        for k, v in self.figures.items():
            table.add_row(k, f"{v:,}" if isinstance(v, int) else str(v))
        for k, v in self.stages.items():
            table.add_row(f"time: {k}", f"{v:.1f} s")
        table.add_row("time: total", f"{sum(self.stages.values()):.1f} s")
        console.print(table)


def resolve_product(settings: Settings, summary: RunSummary) -> Path:
    """The local folder to load: the embedded sample, a local folder, or an SFTP download."""
    if settings.uses_sample:
        from sample_product import ensure_sample

        return ensure_sample(cfg.SAMPLE_DIR, educators=cfg.SAMPLE_EDUCATORS, seed=cfg.SAMPLE_SEED)
    from extract.fetch import fetch

    result = fetch(settings.data_product, settings.landing, settings)
    summary.figures["files downloaded"] = result.downloaded
    summary.figures["files unchanged (skipped)"] = result.skipped
    return result.product_dir


def effective_settings(settings: Settings) -> Settings:
    """The sample carries its own district and years; a real product must be configured."""
    if settings.uses_sample:
        from dataclasses import replace

        return replace(
            settings,
            district_id=settings.district_id or cfg.SAMPLE_DISTRICT_ID,
            school_years=settings.school_years or cfg.SAMPLE_SCHOOL_YEARS,
        )
    if settings.district_id is None:
        raise PipelineError(
            "EDFI_DISTRICT_ID is not set: the Ed-Fi export needs the district's educationOrganizationId "
            "(the State District Number), e.g. `make build DATA_PRODUCT=... EDFI_DISTRICT_ID=3100042`."
        )
    if not settings.school_years:
        raise PipelineError(
            "EDFI_SCHOOL_YEARS is not set: list the school years to send, e.g. EDFI_SCHOOL_YEARS=2024,2025."
        )
    return settings


def extract_and_load(settings: Settings, summary: RunSummary) -> None:
    """Download (or generate) the product and land it in raw. The caller holds the run lock."""
    from extract.load import load_product

    with summary.timed("fetch"):
        product = resolve_product(settings, summary)
    with summary.timed("load raw"):
        res = load_product(product, settings.warehouse, load_id=summary.load_id)
    summary.figures["files landed"] = res.files
    summary.figures["rows landed"] = res.rows_landed
    summary.figures["rows rejected"] = res.rows_rejected
    if res.rows_rejected:
        _list_rejects(settings, res.load_id, res.rows_rejected, summary)
    engines.after_load(settings, summary)  # ENGINE=postgres: raw copied there; nothing on DuckDB


def _list_rejects(settings: Settings, load_id: str, count: int, summary: RunSummary, limit: int = 10) -> None:
    """Each rejected row is a warning with its file, line, column and reason (the first few listed)."""
    import duckdb

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        rows = con.execute(
            """select source_file, line, column_name, reason from raw._rejects where load_id = ?
               order by source_file, line limit ?""",
            [load_id, limit],
        ).fetchall()
    finally:
        con.close()
    for file, line, column, reason in rows:
        col = f", column {column}" if column else ""
        summary.warn(f"{file}: line {line}{col}: row rejected: {reason}")
    if count > len(rows):
        summary.warn(f"... {count - len(rows)} more rejected row(s): see raw._rejects (load_id {load_id})")


def validate(layer: str, settings: Settings, summary: RunSummary, gx: GxWorker | None = None) -> None:
    """Check a layer; its errors stop the build, its warnings are listed. `gx`: the build's GX worker."""
    from expectations import validate_layer

    with summary.timed(f"validate {layer}"):
        report = validate_layer(layer, settings, gx=gx)
    summary.figures[f"{layer} checks (failed/warned/total)"] = (
        f"{report.errors}/{report.warnings}/{report.total}"
    )
    if report.errors:
        raise PipelineError(f"{layer} layer failed validation:\n{report.text()}")
    for failure in report.failures:  # warnings only here: listed, not only counted
        summary.warn(failure.line().strip())


def build(settings: Settings, summary: RunSummary | None = None) -> RunSummary:
    """Run the whole job, all or nothing. Pass a `summary` to keep the figures of a run that fails."""
    from .dbt_worker import dbt_for_build
    from .lock import run_lock
    from .warehouse import work_path, workspace

    settings = effective_settings(settings)
    summary = summary or RunSummary(load_id=uuid.uuid4().hex)
    summary.strict = settings.strict
    # One run at a time for the whole job: a second run would reload raw under a running dbt or export.
    # dbt starts first, in a process of its own (pipeline/dbt_worker.py): it imports itself and parses the
    # project, for the build's copy of the warehouse, while the copy is made and raw is loaded and checked.
    with (
        run_lock(settings.warehouse),
        dbt_for_build(DBT_BUILD, replace(settings, warehouse=work_path(settings.warehouse))) as dbt,
        workspace(settings.warehouse, output=settings.edfi_output, snapshot=settings.snapshot) as ws,
    ):
        work = replace(settings, warehouse=ws.work)
        with engines.discarded_on_failure(work):
            _build_locked(work, summary, ws, dbt)
    return summary


def _check_school_years(settings: Settings, summary: RunSummary) -> None:
    """A configured school year with no group in the delivery is a warning (likely a typo in the years)."""
    import duckdb

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        years = {
            str(y).strip()
            for (y,) in con.execute('select distinct "schoolYear" from raw.groups').fetchall()
            if y is not None
        }
    finally:
        con.close()
    missing = [y for y in settings.school_years or () if str(y) not in years]
    if missing:
        summary.warn(
            f"EDFI_SCHOOL_YEARS: the delivery has no group in school year(s) {', '.join(map(str, missing))} "
            f"(its groups are in {', '.join(sorted(years)) or 'no school year'}); nothing is sent for them"
        )


def _build_locked(settings: Settings, summary: RunSummary, ws: Workspace, dbt: DbtForBuild) -> None:
    from expectations.worker import gx_worker

    # Great Expectations' part of each validation (its import, its stores, the Data Docs) runs in a
    # process of its own beside the build (expectations/worker.py); the build waits for it before publishing
    try:
        with gx_worker() as gx:
            _build_steps(settings, summary, ws, gx, dbt)
    finally:
        dbt.stop()  # a build stopped while dbt runs: dbt ends before its copy of the warehouse is discarded


def _build_steps(
    settings: Settings, summary: RunSummary, ws: Workspace, gx: GxWorker, dbt: DbtForBuild
) -> None:
    from edfi.render import render

    from .dbt import drop_previous_models, log_file

    extract_and_load(settings, summary)
    _check_school_years(settings, summary)
    validate("raw", settings, summary, gx)
    try:
        with summary.timed("dbt build", unit="nodes") as dbt_stage:
            drop_previous_models(settings)  # dbt builds them all again: from nothing, it does less
            statuses = dbt.run(progress=dbt_stage)
        summary.figures["dbt results (ok/warned/skipped/total)"] = _dbt_counts(statuses)
    finally:
        say_dbt_log(log_file(settings))
    # staging and marts checks; ENGINE=postgres: the edfi models copied into the build's DuckDB copy
    engines.validate_models(settings, summary, lambda layer: validate(layer, settings, summary, gx))
    engines.before_render(settings, summary)
    with summary.timed("render Ed-Fi"):
        export = render(settings, load_id=summary.load_id)
    ws.output_staging = export.staging_dir
    for line in export_warning_lines(export.summary["warnings"], settings.edfi_output / "summary.json"):
        summary.warn(line)
    validate("export", settings, summary, gx)
    with summary.timed("Data Docs"):  # what is left of GX's work: the last pages being rendered
        gx.finish()
    with summary.timed("publish"):
        engines.publish(settings)  # PostgreSQL: the build's schemas swapped in; nothing on DuckDB
        ws.publish()
    summary.figures.update(export.figures())


def export_warning_lines(warnings: list[dict], summary_json: Path, examples: int = 3) -> list[str]:
    """The export's warnings for the terminal: one line per resource and reason, with its count and the
    first few records as examples (a district with 400 unmapped PLC groups reads one line, not 400);
    summary.json keeps every one."""
    by_reason: dict[tuple[str, str], list[dict]] = {}
    for w in warnings:
        by_reason.setdefault((w["resource"], w["reason"]), []).append(w)

    def record(w: dict) -> str:
        user = f" user {w['userId']}" if w.get("userId") else ""
        return f"group {w['groupId']}{user} ({w['schoolYear']})"

    lines = []
    for (resource, reason), found in by_reason.items():
        if len(found) == 1:
            lines.append(f"Ed-Fi {resource} of {record(found[0])}: {reason}")
            continue
        shown = ", ".join(record(w) for w in found[:examples])
        more = f" and {len(found) - examples:,} more" if len(found) > examples else ""
        lines.append(
            f"Ed-Fi {resource}: {len(found):,} {reason}; e.g. {shown}{more} (every one in {summary_json})"
        )
    return lines


def _dbt_counts(statuses: list[str]) -> str:
    """ok/warned/skipped/total over dbt's results (a warned test is listed by the validation that follows)."""
    ok = sum(s in ("success", "pass") for s in statuses)
    return f"{ok}/{statuses.count('warn')}/{statuses.count('skipped')}/{len(statuses)}"
