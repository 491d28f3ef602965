"""Staging layer suite: the typed views `staging.stg_edreflect__<key>`, generated from the contract.

Column names come from the staging naming rules as `extract.codegen` implements them, so this suite
checks the models the dbt project really builds. "Parses" is measured against raw: a staged value that
is null while the raw text was not empty means the cast failed (the models use try_cast and report,
rather than fail the whole view on one bad value).
"""

from __future__ import annotations

import re

import duckdb

from extract import codegen, contract
from extract.contract import Table

from .model import ERROR, Finding, Rule, join_examples
from .raw import OBJECT_ID
from .sql import examples_sql, lit, q, relations

TIMESTAMP_RANGE = ("2000-01-01", "2100-01-01")  # platform events: created, updated, observed...
DATE_RANGE = ("1900-01-01", "2100-01-01")  # calendar dates (hire dates can be old)
SCHOOL_YEAR_RANGE = (2000, 2100)

RULES = (
    Rule(
        "model_present", "the staging model exists", ERROR, "1 when `staging.stg_edreflect__<key>` is missing"
    ),
    Rule(
        "columns_present",
        "every staged column (naming rules) is present",
        ERROR,
        "number of columns the naming rules expect that the model lacks (examples: their names)",
    ),
    Rule(
        "values_parse",
        "typed values parse (integer, number, boolean, date, timestamp; ObjectIds are 24 hex digits)",
        ERROR,
        "rows where the raw text is not empty but the staged value is null (joined on source file and "
        f"line), or an ObjectId column's value does not fully match `{OBJECT_ID}`",
    ),
    Rule(
        "required_present",
        "columns the contract marks not nullable have a value",
        ERROR,
        "rows where the staged value of a `nullable = no` column is null",
    ),
    Rule(
        "enum_in_set",
        "enumerations hold one of their values (contract `a | b | c`)",
        ERROR,
        "rows whose value is not in the column's set (case-sensitive)",
    ),
    Rule(
        "timestamp_in_range",
        f"timestamps fall in {TIMESTAMP_RANGE[0]} .. {TIMESTAMP_RANGE[1]}, "
        f"dates in {DATE_RANGE[0]} .. {DATE_RANGE[1]}",
        ERROR,
        "rows whose timestamp or date lies outside the range",
    ),
    Rule(
        "school_year_in_range",
        f"school years are between {SCHOOL_YEAR_RANGE[0]} and {SCHOOL_YEAR_RANGE[1]}",
        ERROR,
        "rows whose school_year lies outside the range",
    ),
    Rule(
        "root_exists",
        "every child row's root_id is a document of its collection",
        ERROR,
        "child rows whose root_id has no row in the top-level model (soft-deleted documents count)",
    ),
    Rule(
        "reference_exists",
        "every reference resolves (`references <table>._id` in the contract; soft-deleted rows count)",
        ERROR,
        "rows whose non-null reference has no row (by its own id) in the referenced model; "
        "`a rubric indicator at any level` looks in all four indicator levels",
    ),
    Rule(
        "parent_exists",
        "every child row's parent_id is an item of its parent table",
        ERROR,
        "child rows whose parent_id has no row (by its own id) in the parent table's model",
    ),
)


def model_relation(t: Table) -> str:
    return f"staging.{codegen.model_name(t)}"


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for table, column in con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = 'staging' "
        "order by table_name, ordinal_position"
    ).fetchall():
        out.setdefault(f"staging.{table}", []).append(column)
    return out


def _key_set(con: duckdb.DuckDBPyConnection, targets: list[Table], have: set[str]) -> str | None:
    """The distinct ids of one or more models, materialized once per validation (a temp table): a parent
    view is read once instead of once per child table (each read re-runs the view's dedupe). None when a
    target has no own id or is missing (nothing to check against)."""
    parts = []
    for target in targets:
        key = codegen.key_column(target)
        if key is None or model_relation(target) not in have:
            return None
        parts.append(f"select {q(key)} as k from {model_relation(target)}")
    table = "gx_keys__" + "__or__".join(t.key for t in targets)
    if not con.execute(
        "select 1 from duckdb_tables() where temporary and table_name = ?", [table]
    ).fetchone():
        con.execute(f"create temp table {table} as select distinct k from ({' union all '.join(parts)})")
    return f"temp.{table}"


def _referenced(reference: str) -> list[Table]:
    """The tables a contract reference points into (`rubrics.indicators*` = the four indicator levels)."""
    if reference == codegen.INDICATOR_REFERENCE:
        return [t for t in contract.tables() if re.fullmatch(r"rubrics(\.indicators){1,4}", t.name)]
    return [contract.table(reference)]


def _column_findings(
    con: duckdb.DuckDBPyConnection, t: Table, present: set[str], raw_present: set[str], have: set[str]
) -> list[Finding]:
    """All column checks and the orphan checks of one model in one query (one scan of the view)."""
    rel = model_relation(t)
    line = "s.source_line"
    at = f"'line ' || {line}::varchar"
    checks: list[tuple[str, str, str, str]] = []  # (check, column, failing condition, example)
    join_raw = False
    for sc in codegen.staged_columns(t):
        col, name = sc.column, sc.name
        if name not in present:
            continue
        s = f"s.{q(name)}"
        if col.type == "objectid":
            checks.append(
                (
                    "values_parse",
                    name,
                    f"{s} is not null and not regexp_full_match({s}, '{OBJECT_ID}')",
                    f"{at} || ': ' || {s}",
                )
            )
        elif col.type in codegen.PARSED_TYPES and col.name in raw_present:
            r = f"r.{q(col.name)}"
            join_raw = True
            checks.append(
                ("values_parse", name, f"nullif({r}, '') is not null and {s} is null", f"{at} || ': ' || {r}")
            )
        if not col.nullable:
            checks.append(("required_present", name, f"{s} is null", at))
        if col.enum_values:
            allowed = ", ".join(lit(v) for v in col.enum_values)
            checks.append(
                ("enum_in_set", name, f"{s} is not null and {s} not in ({allowed})", f"{at} || ': ' || {s}")
            )
        if col.type == "timestamp":
            lo, hi = (f"cast({lit(v)} as timestamp with time zone)" for v in TIMESTAMP_RANGE)
            checks.append(
                ("timestamp_in_range", name, f"({s} < {lo} or {s} >= {hi})", f"{at} || ': ' || {s}::varchar")
            )
        elif col.type == "date":
            lo, hi = (f"cast({lit(v)} as date)" for v in DATE_RANGE)
            checks.append(
                ("timestamp_in_range", name, f"({s} < {lo} or {s} >= {hi})", f"{at} || ': ' || {s}::varchar")
            )
        if col.name == "schoolYear" and col.type == "integer":
            lo_y, hi_y = SCHOOL_YEAR_RANGE
            checks.append(
                (
                    "school_year_in_range",
                    name,
                    f"({s} < {lo_y} or {s} > {hi_y})",
                    f"{at} || ': ' || {s}::varchar",
                )
            )
    joins: list[str] = []
    targets: list[tuple[str, str, str, list[Table]]] = []  # (check, staged column, rule, tables)
    if not t.is_top_level:
        top = contract.table(t.file_group)
        parent = contract.table(t.parent_name) if t.parent_name else top
        targets += [("root_exists", "root_id", "", [top]), ("parent_exists", "parent_id", "", [parent])]
    for sc in codegen.staged_columns(t):
        if sc.column.reference and sc.column.name not in codegen.LINKAGE_RENAMES:
            targets.append(
                ("reference_exists", sc.name, sc.column.reference, _referenced(sc.column.reference))
            )
    for i, (check, column, _, tables) in enumerate(targets):
        keys = _key_set(con, tables, have) if column in present else None
        if keys is None:
            continue
        joins.append(f" left join {keys} as k{i} on k{i}.k = s.{q(column)}")
        cond = f"s.{q(column)} is not null and k{i}.k is null"
        checks.append((check, column, cond, f"{at} || ': ' || s.{q(column)}"))
    if not checks:
        return []
    select = ["count(*)"]
    for _, _, cond, example in checks:
        select += [f"count(*) filter (where {cond})", examples_sql(example, line, cond)]
    source = f"{rel} as s"
    if join_raw:
        source += (
            f" left join {t.raw_relation} as r"
            " on r._source_file = s.source_file and r._source_line = s.source_line"
        )
    source += "".join(joins)
    res = con.execute(f"select {', '.join(select)} from {source}").fetchone()
    rows = int(res[0])
    return [
        Finding(
            t.name,
            check,
            int(res[1 + 2 * i]),
            rows,
            column=name,
            file=t.relative_path,
            examples=join_examples(res[2 + 2 * i]),
        )
        for i, (check, name, _, _) in enumerate(checks)
    ]


def collect(con: duckdb.DuckDBPyConnection) -> tuple[list[Finding], dict[str, object]]:
    have = relations(con)
    cols = _columns(con)
    raw_cols: dict[str, set[str]] = {}
    for table, column in con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = 'raw'"
    ).fetchall():
        raw_cols.setdefault(f"raw.{table}", set()).add(column)
    findings: list[Finding] = []
    for t in contract.tables():
        rel = model_relation(t)
        file = t.relative_path
        if rel not in have:
            findings.append(Finding(t.name, "model_present", 1, 1, file=file, examples=f"{rel} is missing"))
            continue
        findings.append(Finding(t.name, "model_present", 0, 1, file=file))
        present = set(cols.get(rel, []))
        expected = [sc.name for sc in codegen.staged_columns(t)]
        missing = [n for n in expected if n not in present]
        findings.append(
            Finding(
                t.name,
                "columns_present",
                len(missing),
                len(expected),
                file=file,
                examples=join_examples(missing),
            )
        )
        findings += _column_findings(con, t, present, raw_cols.get(t.raw_relation, set()), have)
    return findings, {}
