"""The main job: fetch -> land raw -> validate -> dbt -> validate -> render Ed-Fi -> validate -> commit.

Each layer is validated right after it is built; a failure stops the later layers, nothing is written to
the Ed-Fi output folder and the identity-mapping state stays as it was.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table as RichTable

from . import config as cfg
from .config import Settings

console = Console(stderr=True)


class PipelineError(RuntimeError):
    """A stage failed; the message is what the user needs to read."""


@dataclass
class RunSummary:
    load_id: str
    stages: dict[str, float] = field(default_factory=dict)
    figures: dict[str, object] = field(default_factory=dict)

    def timed(self, name: str):
        summary = self

        class _Timer:
            def __enter__(self):
                self.t0 = time.perf_counter()
                console.rule(f"[bold]{name}")

            def __exit__(self, *exc):
                summary.stages[name] = time.perf_counter() - self.t0

        return _Timer()

    def render(self) -> None:
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
        from .sample import ensure_sample

        return ensure_sample(cfg.SAMPLE_DIR, educators=cfg.SAMPLE_EDUCATORS, seed=cfg.SAMPLE_SEED)
    from .fetch import fetch

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
    from .load import load_product

    with summary.timed("fetch"):
        product = resolve_product(settings, summary)
    with summary.timed("load raw"):
        res = load_product(product, settings.warehouse, load_id=summary.load_id)
    summary.figures["files landed"] = res.files
    summary.figures["rows landed"] = res.rows_landed
    summary.figures["rows rejected"] = res.rows_rejected
    if res.rows_rejected:
        console.print(
            f"[yellow]{res.rows_rejected} row(s) rejected: see raw._rejects (load_id {res.load_id})"
        )


def validate(layer: str, settings: Settings, summary: RunSummary) -> None:
    from expectations import validate_layer

    with summary.timed(f"validate {layer}"):
        report = validate_layer(layer, settings)
    summary.figures[f"{layer} checks (failed/warned/total)"] = (
        f"{report.errors}/{report.warnings}/{report.total}"
    )
    if report.errors:
        raise PipelineError(f"{layer} layer failed validation:\n{report.text()}")


def build(settings: Settings, summary: RunSummary | None = None) -> RunSummary:
    """Run the whole job. Pass a `summary` to keep the figures of a run that fails half-way."""
    from .lock import run_lock

    settings = effective_settings(settings)
    summary = summary or RunSummary(load_id=uuid.uuid4().hex)
    # One run at a time for the whole job: a second run would reload raw under a running dbt or export.
    with run_lock(settings.warehouse):
        _build_locked(settings, summary)
    return summary


def _build_locked(settings: Settings, summary: RunSummary) -> None:
    from .dbt import run_dbt
    from .edfi_export import commit_state, render

    extract_and_load(settings, summary)
    validate("raw", settings, summary)
    with summary.timed("dbt build"):
        run_dbt(["build"], settings)
    validate("staging", settings, summary)
    validate("marts", settings, summary)
    with summary.timed("render Ed-Fi"):
        export = render(settings, load_id=summary.load_id)
    validate("export", settings, summary)
    with summary.timed("publish Ed-Fi"):
        commit_state(settings, export)
    summary.figures.update(export.figures())
