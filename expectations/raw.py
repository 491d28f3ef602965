"""Raw layer suite: every contract table as landed, checked against the contract and the load manifest.

Generated from the contract (`extract.contract.tables()`): one set of aggregate queries per table, so a
new contract table or column is checked without touching this file.
"""

from __future__ import annotations

from typing import Any

import duckdb

from extract import contract
from extract.contract import Table

from .model import ERROR, WARNING, Finding, Rule, join_examples
from .sql import examples_sql, lit, q, relations

OBJECT_ID = "[0-9a-f]{24}"

RULES = (
    Rule("table_present", "the raw table exists", ERROR, "1 when `raw.<key>` is missing from the warehouse"),
    Rule(
        "contract_columns_present",
        "every contract column is present",
        ERROR,
        "number of contract columns missing from the raw table (examples: their names)",
    ),
    Rule(
        "rows_match_manifest",
        "row count agrees with raw._loads (rows_landed of the latest load)",
        ERROR,
        "|rows of the latest load in the table - rows_landed in raw._loads|, or the table's rows when the "
        "manifest has no row for it",
    ),
    Rule(
        "rows_of_latest_load",
        "every row belongs to the latest load",
        ERROR,
        "rows whose `_load_id` is not the latest load id of raw._loads",
    ),
    Rule("id_not_null", "`_id` is not null", ERROR, "rows with an empty `_id`"),
    Rule(
        "id_unique",
        "`_id` identifies one row: no two different rows share it",
        ERROR,
        "rows whose `_id` is shared by a row with different content (exact copies count once; examples: "
        "the id and its lines)",
    ),
    Rule(
        "id_is_object_id",
        f"`_id` is an ObjectId (^{OBJECT_ID}$)",
        ERROR,
        f"rows whose non-empty `_id` does not fully match `{OBJECT_ID}`",
    ),
    Rule("root_id_not_null", "`_rootId` is not null (child tables)", ERROR, "rows with an empty `_rootId`"),
    Rule(
        "parent_id_not_null",
        "`_parentId` is not null (child tables)",
        ERROR,
        "rows with an empty `_parentId`",
    ),
    Rule("index_not_null", "`_index` is not null (child tables)", ERROR, "rows with an empty `_index`"),
    Rule(
        "key_unique",
        "the child key (`_parentId`, `_index`) identifies one row: no two different rows share it",
        ERROR,
        "rows whose key is shared by a row with different content (for "
        "rubrics.standards.indicators.proficiencyLevels the key includes `indicatorIndex`)",
    ),
    Rule(
        "no_exact_duplicates",
        "no row repeats another exactly (staging keeps the first copy)",
        WARNING,
        "rows beyond the first copy of a row whose every contract column is equal to it (examples: file and "
        "lines of the copies)",
    ),
    Rule(
        "no_rejects",
        "no record was rejected by the loader",
        WARNING,
        "rows_rejected of the latest load in raw._loads (the records are quarantined in raw._rejects)",
    ),
    Rule(
        "no_drift",
        "no column outside the contract",
        WARNING,
        "columns the file had beyond the contract (kept in the raw table, listed in raw._drift)",
    ),
)

# Contract section 6: in this table `_parentId` is the standard and the indicator's position is a column.
EXTRA_KEY_COLUMNS = {"rubrics.standards.indicators.proficiencyLevels": ("indicatorIndex",)}


def latest_load(con: duckdb.DuckDBPyConnection, have: set[str]) -> str | None:
    if "raw._loads" not in have:
        return None
    row = con.execute(
        "select load_id from raw._loads order by loaded_at desc, load_id desc limit 1"
    ).fetchone()
    return row[0] if row else None


def _manifest(con: duckdb.DuckDBPyConnection, load_id: str | None) -> dict[str, tuple[int, int, str | None]]:
    if load_id is None:
        return {}
    rows = con.execute(
        "select table_name, rows_landed, rows_rejected, drift_columns from raw._loads where load_id = ?",
        [load_id],
    ).fetchall()
    return {r[0]: (int(r[1] or 0), int(r[2] or 0), r[3]) for r in rows}


def _reject_examples(con: duckdb.DuckDBPyConnection, load_id: str, table: str) -> str | None:
    rows = con.execute(
        "select line, coalesce(column_name, ''), error_type from raw._rejects "
        "where load_id = ? and table_name = ? order by line limit 5",
        [load_id, table],
    ).fetchall()
    return join_examples([f"line {r[0]}{' column ' + r[1] if r[1] else ''}: {r[2]}" for r in rows])


def _table_findings(
    con: duckdb.DuckDBPyConnection,
    t: Table,
    columns: list[str],
    load_id: str | None,
    manifest: dict[str, tuple[int, int, str | None]],
) -> list[Finding]:
    """One raw table's findings, in report order: contract columns, rows against the load and the
    manifest, the per-row checks, duplicates, rejects, drift."""
    rel = t.raw_relation
    file = t.relative_path
    out: list[Finding] = []

    def add(check: str, failing: int, checked: int, examples: str | None = None, column: str | None = None):
        out.append(Finding(t.name, check, failing, checked, column=column, file=file, examples=examples))

    missing = [c for c in t.column_names if c not in columns]
    add("contract_columns_present", len(missing), len(t.column_names), join_examples(missing))
    has = set(columns)
    row_checks = _row_checks(t, has)
    res = _count_rows(con, rel, load_id, row_checks)
    rows, other = int(res[0]), int(res[1])
    add(
        "rows_of_latest_load",
        other,
        rows,
        None if not other else f"{other} row(s) of another load than {load_id}",
    )
    add("rows_match_manifest", *_manifest_match(t, load_id, manifest, rows, rows - other))
    for i, (check, _, col, _) in enumerate(row_checks):
        failing, ex = res[2 + 2 * i], res[3 + 2 * i]
        add(check, int(failing), rows, join_examples(ex), column=col)

    keys = _unique_keys(t, has)
    content = [c for c in t.column_names if c in has]
    exact, exact_ex, conflicts = _duplicates(con, rel, content, [k for _, k in keys])
    add("no_exact_duplicates", exact, rows, exact_ex and f"{file}: {exact_ex}")
    for (check, cols), (failing, ex) in zip(keys, conflicts, strict=True):
        add(check, failing, rows, ex, column=", ".join(cols))

    landed, rejected, drift = manifest.get(t.name, (0, 0, None))
    rejects_ex = _reject_examples(con, load_id, t.name) if rejected and load_id else None
    add("no_rejects", rejected, landed + rejected, rejects_ex)
    drift_cols = [c for c in columns if c not in t.column_names and c not in contract.LINEAGE_COLUMNS]
    drift_listed = [d.strip() for d in (drift or "").split(",") if d.strip()]
    drifted = sorted(set(drift_cols) | set(drift_listed))
    add("no_drift", len(drifted), len(columns), join_examples(drifted))
    return out


_LINE = "_source_line"
_AT_LINE = f"'line ' || {_LINE}::varchar"


def _row_checks(t: Table, has: set[str]) -> list[tuple[str, str, str, str]]:
    """(check, failing condition, column, example) of the per-row checks that apply to the table."""
    row_checks: list[tuple[str, str, str, str]] = []
    if "_id" in has and t.has_own_id:
        row_checks += [
            ("id_not_null", '"_id" is null', "_id", _AT_LINE),
            (
                "id_is_object_id",
                f'"_id" is not null and not regexp_full_match("_id", \'{OBJECT_ID}\')',
                "_id",
                f"{_AT_LINE} || ': ' || \"_id\"",
            ),
        ]
    if not t.is_top_level:
        for check, col in (
            ("root_id_not_null", "_rootId"),
            ("parent_id_not_null", "_parentId"),
            ("index_not_null", "_index"),
        ):
            if col in has:
                row_checks.append((check, f"{q(col)} is null", col, _AT_LINE))
    return row_checks


def _count_rows(
    con: duckdb.DuckDBPyConnection, rel: str, load_id: str | None, row_checks: list[tuple[str, str, str, str]]
) -> tuple[Any, ...]:
    """In one scan: the rows, those of another load, then each row check's failing count and examples."""
    select = ["count(*)", f"count(*) filter (where _load_id is distinct from {lit(load_id or '')})"]
    for _, cond, _, example in row_checks:
        select += [f"count(*) filter (where {cond})", examples_sql(example, _LINE, cond)]
    return con.execute(f"select {', '.join(select)} from {rel}").fetchone()


def _manifest_match(
    t: Table, load_id: str | None, manifest: dict[str, tuple[int, int, str | None]], rows: int, this_load: int
) -> tuple[int, int, str | None]:
    """(failing, checked, example) of rows_match_manifest: this load's rows against raw._loads."""
    if load_id is None:
        return max(rows, 1), rows, "raw._loads has no load"
    if t.name not in manifest:
        return max(this_load, 1), rows, f"raw._loads has no row for {t.name} in load {load_id}"
    landed = manifest[t.name][0]
    diff = abs(this_load - landed)
    return diff, rows, f"table {this_load:,} rows, raw._loads {landed:,}" if diff else None


def _unique_keys(t: Table, has: set[str]) -> list[tuple[str, list[str]]]:
    """The keys that must be unique: `_id` of a table with its own ids, the position key of a nested one."""
    keys: list[tuple[str, list[str]]] = []
    if "_id" in has and t.has_own_id:
        keys.append(("id_unique", ["_id"]))
    key = ["_parentId", *EXTRA_KEY_COLUMNS.get(t.name, ()), "_index"]
    if not t.is_top_level and all(k in has for k in key):
        keys.append(("key_unique", key))
    return keys


def _duplicates(
    con: duckdb.DuckDBPyConnection, rel: str, content: list[str], keys: list[list[str]]
) -> tuple[int, str | None, list[tuple[int, str | None]]]:
    """Exact duplicate rows (every contract column equal), and for each key the rows that share it with
    different content, in one pass: rows are grouped by their content first, so exact copies of a row
    never count as a key conflict.

    Two rows that are exact copies share every key as well, so a table where no key repeats (a value of
    its key columns, NULLs as equal, on two rows) has neither: that is asked first, of the key columns
    alone, and the grouping by every column (the 4 KB `data` texts included) runs only for a table where
    a key repeats. On the 1 GB product the grouping of all 87 tables took 7.1 s of the raw checks' 8 s."""
    if keys and not _a_key_repeats(con, rel, keys):
        return 0, None, [(0, None) for _ in keys]
    return _grouped_duplicates(con, rel, content, keys)


def _grouped_duplicates(
    con: duckdb.DuckDBPyConnection, rel: str, content: list[str], keys: list[list[str]]
) -> tuple[int, str | None, list[tuple[int, str | None]]]:
    grouped = ", ".join(q(c) for c in dict.fromkeys([*content, *(k for key in keys for k in key)]))
    # each group keeps its first three lines (`min(x, 3)`, ascending), all an example shows: a list of every
    # line of every group cost 0.4 s of 5 s and its memory on the 1 GB product, for the same findings
    lines = "array_to_string(list_slice(lines, 1, 3), ', ')"
    select = [
        "(select coalesce(sum(n - 1), 0) from g where n > 1)",
        f"(select arg_min('lines ' || {lines}, first_line, 5) from g where n > 1)",
    ]
    for key in keys:
        cols = ", ".join(q(k) for k in key)
        shown = " || '|' || ".join(f"coalesce({q(k)}::varchar, '(empty)')" for k in key)
        select.append(
            f"""(select struct_pack(rows := coalesce(sum(rows), 0),
                    examples := arg_min(shown || ' (lines ' || {lines} || ')', first_line, 5))
                from (
                    select sum(n) as rows, min(first_line) as first_line, {shown} as shown,
                           list_sort(flatten(list(lines))) as lines
                    from g where {" and ".join(f"{q(k)} is not null" for k in key)}
                    group by {cols} having count(*) > 1
                ))"""
        )
    res = con.execute(
        f"""with g as (
            select {grouped}, count(*) as n, min(_source_line) as first_line,
                   min(_source_line, 3) as lines
            from {rel} group by all
        )
        select {", ".join(select)}"""
    ).fetchone()
    conflicts = [(int(r["rows"]), join_examples(r["examples"])) for r in res[2:]]
    return int(res[0]), join_examples(res[1]), conflicts


def _a_key_repeats(con: duckdb.DuckDBPyConnection, rel: str, keys: list[list[str]]) -> bool:
    repeats = " or ".join(
        f"exists (select 1 from {rel} group by {', '.join(q(k) for k in key)} having count(*) > 1)"
        for key in keys
    )
    return bool(con.execute(f"select {repeats}").fetchone()[0])


def collect(con: duckdb.DuckDBPyConnection) -> tuple[list[Finding], dict[str, object]]:
    have = relations(con)
    load_id = latest_load(con, have)
    manifest = _manifest(con, load_id)
    cols = _columns(con)
    findings: list[Finding] = []
    for t in contract.tables():
        if t.raw_relation not in have:
            findings.append(
                Finding(
                    t.name,
                    "table_present",
                    1,
                    1,
                    file=t.relative_path,
                    examples=f"{t.raw_relation} is missing",
                )
            )
            continue
        findings.append(Finding(t.name, "table_present", 0, 1, file=t.relative_path))
        findings += _table_findings(con, t, cols.get(t.raw_relation, []), load_id, manifest)
    return findings, {"load_id": load_id}


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for schema, table, column in con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema = 'raw' order by table_name, ordinal_position"
    ).fetchall():
        out.setdefault(f"{schema}.{table}", []).append(column)
    return out
