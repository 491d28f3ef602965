"""The shapes every layer's suite shares: rules, findings, the batch GX validates, the report.

Why findings: the raw, staging and marts checks are aggregates over tables of millions of rows
(uniqueness, volumes, value ranges) or dbt's own test results. DuckDB computes them in one pass per
table; each (subject, check) becomes one GX expectation result, kept in GX's store and rendered in the
Data Docs grouped by table or model (see README.md for the measurements behind this).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

ERROR = "error"
WARNING = "warning"
SEVERITIES = (ERROR, WARNING)
EXAMPLES = 5  # example values kept per failing check
EXAMPLE_WIDTH = 60  # characters of one example value (values may be personal data: keep them short)


@dataclass(frozen=True)
class Rule:
    """One expectation of a layer, applied to every subject (table or column) it concerns."""

    check: str  # identifier, e.g. `id_unique`
    description: str  # the sentence a person reads in Data Docs and in the failure text
    severity: str  # error (stops the build) | warning (reported)
    how: str  # how `failing` is counted (shown as the expectation's notes)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.check}: severity {self.severity!r} is not one of {SEVERITIES}")


@dataclass
class Finding:
    """What one check measured on one subject."""

    table: str
    check: str
    failing: int
    checked: int
    column: str | None = None
    file: str | None = None
    examples: str | None = None
    severity: str | None = None  # the rule's unless set (dbt tests carry their own)
    description: str | None = None  # the rule's unless set


@dataclass
class LayerBatch:
    """What a layer's suite produced for GX: the export's payload frame (`frame`, `index_columns`: GX
    checks it with the export's native expectations, `export.expectations`), or, for raw, staging and
    marts, the findings computed where the data is (`findings`, judged by `rules`). Plain data, no GX
    object: it is sent to the GX worker process (`expectations.worker`)."""

    layer: str
    subject: str  # what is validated, for Data Docs: `raw tables`, `Ed-Fi payloads`
    frame: pd.DataFrame | None = None
    index_columns: list[str] = field(default_factory=list)
    rules: tuple[Rule, ...] = ()
    findings: list[Finding] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)  # load id, table profiles, for the run record


def short(value: object) -> str:
    """An example value as shown in reports: one line, at most EXAMPLE_WIDTH characters."""
    text = " ".join(str(value).split())
    return text if len(text) <= EXAMPLE_WIDTH else text[: EXAMPLE_WIDTH - 3] + "..."


def join_examples(values: list[Any] | None) -> str | None:
    if not values:
        return None
    return "; ".join(short(v) for v in values[:EXAMPLES])


@dataclass
class Failure:
    """A failing check as the report shows it."""

    layer: str
    table: str
    column: str | None
    check: str
    description: str
    severity: str
    failing: int
    checked: int | None
    examples: str | None

    def line(self) -> str:
        where = self.table + (f".{self.column}" if self.column else "")
        of = f" of {self.checked:,}" if self.checked else ""
        eg = f"; e.g. {self.examples}" if self.examples else ""
        sev = self.severity.upper()
        return f"  {sev:7} {self.layer} | {where} | {self.description} | {self.failing:,} failing{of}{eg}"


@dataclass
class ValidationReport:
    """The result of validating one layer: what the pipeline reads (`errors`, `warnings`, `text()`)."""

    layer: str
    total: int
    failures: list[Failure]
    run_id: str
    seconds: float
    data_docs: str | None = None

    @property
    def errors(self) -> int:
        return sum(1 for f in self.failures if f.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.failures if f.severity == WARNING)

    @property
    def success(self) -> bool:
        return self.errors == 0

    def text(self, limit: int = 40) -> str:
        head = (
            f"{self.layer} layer: {self.errors} error(s), {self.warnings} warning(s) in {self.total:,} "
            f"checks ({self.seconds:.1f} s, run {self.run_id})"
        )
        ordered = sorted(self.failures, key=lambda f: (f.severity != ERROR, f.table, f.column or "", f.check))
        lines = [head, *(f.line() for f in ordered[:limit])]
        if len(ordered) > limit:
            lines.append(f"  ... and {len(ordered) - limit} more (see quality.validation_results)")
        if self.data_docs:
            lines.append(f"  Data Docs: {self.data_docs}")
        return "\n".join(lines)
