"""Marts layer suite, read from the marts' own model YAML (models/marts/**/*.yml).

Every `unique`, `not_null`, `accepted_values` and `relationships` test a model declares becomes a check
here, so the suite follows the models as they change; a test's `config: severity: warn` makes it a
warning. On top, the rubric indicator hierarchy (levels 1-4, every indicator's parent one level up).
All checks of a model run as one query: aggregates plus a left join per relationship.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from extract.contract import PROJECT_ROOT

from .model import ERROR, WARNING, Finding, Rule, join_examples
from .sql import examples_sql, lit, q, relations

MARTS_DIR = PROJECT_ROOT / "models" / "marts"
SCHEMA = "marts"
INDICATORS = "dim_rubric_indicators"

RULES = (
    Rule("model_present", "the mart exists", ERROR, "1 when `marts.<model>` is missing"),
    Rule("unique", "key values are unique (YAML `unique`)", ERROR, "rows whose value occurs more than once"),
    Rule("not_null", "required columns have a value (YAML `not_null`)", ERROR, "rows with a null value"),
    Rule(
        "accepted_values",
        "enumerations hold one of their values (YAML `accepted_values`)",
        ERROR,
        "rows whose non-null value is not in the list",
    ),
    Rule(
        "relationship",
        "every reference resolves to its dimension or fact (YAML `relationships`)",
        ERROR,
        "rows whose non-null value has no row in the referenced model",
    ),
    Rule("unique_warn", "key values are unique (YAML `unique`, severity warn)", WARNING, "as `unique`"),
    Rule("not_null_warn", "required columns have a value (severity warn)", WARNING, "as `not_null`"),
    Rule(
        "accepted_values_warn", "enumerations in their set (severity warn)", WARNING, "as `accepted_values`"
    ),
    Rule("relationship_warn", "references resolve (severity warn)", WARNING, "as `relationship`"),
    Rule(
        "indicator_level_in_range",
        "every rubric indicator's level is between 1 and 4",
        ERROR,
        f"rows of {INDICATORS} whose level is null or outside 1..4",
    ),
    Rule(
        "indicator_parent_present",
        "every indicator below level 1 has its parent one level up in the same rubric; domains have none",
        ERROR,
        f"rows of {INDICATORS} whose parent is missing, on another level or in another rubric (or a level-1 "
        "indicator with a parent)",
    ),
)


@dataclass
class Test:
    kind: str  # unique | not_null | accepted_values | relationship
    column: str
    severity: str
    values: list[str] = field(default_factory=list)
    to: str | None = None
    field: str | None = None


@dataclass
class MartModel:
    name: str
    yaml_file: str
    tests: list[Test]


def _ref(text: str) -> str | None:
    m = re.search(r"ref\(\s*['\"]([^'\"]+)['\"]\s*\)", text or "")
    return m.group(1) if m else None


def _parse_test(column: str, test: Any) -> Test | None:
    if isinstance(test, str):
        name, args = test, {}
    elif isinstance(test, dict) and len(test) == 1:
        name, args = next(iter(test.items()))
        args = args or {}
    else:
        return None
    kwargs = dict(args.get("arguments") or {})
    kwargs.update({k: v for k, v in args.items() if k not in ("arguments", "config")})
    config = args.get("config") or {}
    severity = WARNING if str(config.get("severity", "error")).lower() == "warn" else ERROR
    if name in ("unique", "not_null"):
        return Test(name, column, severity)
    if name == "accepted_values":
        return Test(name, column, severity, values=[str(v) for v in kwargs.get("values", [])])
    if name == "relationships":
        to = _ref(str(kwargs.get("to", "")))
        return Test("relationship", column, severity, to=to, field=kwargs.get("field")) if to else None
    return None


def mart_models(directory: Path = MARTS_DIR) -> list[MartModel]:
    """The marts and their tests, as declared in the YAML beside them."""
    out: list[MartModel] = []
    for path in sorted(directory.rglob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for m in doc.get("models") or []:
            tests: list[Test] = []
            for col in m.get("columns") or []:
                for test in (col.get("data_tests") or []) + (col.get("tests") or []):
                    parsed = _parse_test(col["name"], test)
                    if parsed:
                        tests.append(parsed)
            out.append(MartModel(m["name"], str(path.relative_to(PROJECT_ROOT)), tests))
    return out


def _check_name(test: Test) -> str:
    return test.kind + ("_warn" if test.severity == WARNING else "")


def _model_findings(con: duckdb.DuckDBPyConnection, model: MartModel, have: set[str]) -> list[Finding]:
    rel = f"{SCHEMA}.{model.name}"
    select = ["count(*)"]
    joins: list[str] = []
    parts: list[tuple[str, str]] = []  # (check, column) per pair of select items
    order = "m.rowid"
    for i, test in enumerate(model.tests):
        c = f"m.{q(test.column)}"
        shown = f"{c}::varchar"
        if test.kind == "unique":
            # rows whose value occurs more than once: a window count, still one scan of the model
            joins.append(
                f" left join (select {q(test.column)} as k from {rel} group by all having count(*) > 1)"
                f" as d{i} on d{i}.k = {c}"
            )
            cond = f"d{i}.k is not null"
        elif test.kind == "not_null":
            cond, shown = f"{c} is null", "'row ' || m.rowid::varchar"
        elif test.kind == "accepted_values":
            allowed = ", ".join(lit(v) for v in test.values) or "null"
            cond = f"{c} is not null and {c}::varchar not in ({allowed})"
        else:
            target = f"{SCHEMA}.{test.to}"
            if target not in have:
                cond = f"{c} is not null"  # the referenced model is missing: every reference dangles
            else:
                joins.append(
                    f" left join (select distinct {q(test.field or test.column)} as k from {target}) as r{i}"
                    f" on r{i}.k = {c}"
                )
                cond = f"{c} is not null and r{i}.k is null"
        select += [f"count(*) filter (where {cond})", examples_sql(shown, order, cond)]
        parts.append((_check_name(test), test.column))
    res = con.execute(f"select {', '.join(select)} from {rel} as m{''.join(joins)}").fetchone()
    rows = int(res[0])
    return [
        Finding(
            model.name,
            check,
            int(res[1 + 2 * i]),
            rows,
            column=column,
            file=model.yaml_file,
            examples=join_examples(res[2 + 2 * i]),
        )
        for i, (check, column) in enumerate(parts)
    ]


def _indicator_findings(con: duckdb.DuckDBPyConnection, have: set[str], yaml_file: str) -> list[Finding]:
    rel = f"{SCHEMA}.{INDICATORS}"
    if rel not in have:
        return []
    level_bad = "i.level is null or i.level < 1 or i.level > 4"
    parent_bad = (
        "(i.level = 1 and i.parent_indicator_id is not null) or (i.level > 1 and (p.indicator_id is null "
        "or p.level is distinct from i.level - 1 or p.rubric_id is distinct from i.rubric_id))"
    )
    shown = "i.indicator_id || ' (level ' || coalesce(i.level::varchar, 'null') || ')'"
    res = con.execute(
        f"""select count(*),
            count(*) filter (where {level_bad}), {examples_sql(shown, "i.indicator_id", level_bad)},
            count(*) filter (where {parent_bad}), {examples_sql(shown, "i.indicator_id", parent_bad)}
        from {rel} as i left join {rel} as p on p.indicator_id = i.parent_indicator_id"""
    ).fetchone()
    rows = int(res[0])
    return [
        Finding(
            INDICATORS,
            "indicator_level_in_range",
            int(res[1]),
            rows,
            column="level",
            file=yaml_file,
            examples=join_examples(res[2]),
        ),
        Finding(
            INDICATORS,
            "indicator_parent_present",
            int(res[3]),
            rows,
            column="parent_indicator_id",
            file=yaml_file,
            examples=join_examples(res[4]),
        ),
    ]


def collect(con: duckdb.DuckDBPyConnection) -> tuple[list[Finding], dict[str, object]]:
    have = relations(con)
    findings: list[Finding] = []
    indicator_yaml = ""
    for model in mart_models():
        rel = f"{SCHEMA}.{model.name}"
        if model.name == INDICATORS:
            indicator_yaml = model.yaml_file
        if rel not in have:
            findings.append(
                Finding(model.name, "model_present", 1, 1, file=model.yaml_file, examples=f"{rel} is missing")
            )
            continue
        findings.append(Finding(model.name, "model_present", 0, 1, file=model.yaml_file))
        if model.tests:
            findings += _model_findings(con, model, have)
    findings += _indicator_findings(con, have, indicator_yaml or str(MARTS_DIR.relative_to(PROJECT_ROOT)))
    return findings, {}
