"""Land a data product folder in the `raw` schema of the DuckDB warehouse.

Interface other layers rely on:
- one table per contract table, `raw.<Table.key>`, all columns VARCHAR with the contract's exact column
  names (`_rootId`, `name.first`), then any drift columns (in the file but not in the contract, kept in
  header order), then the lineage columns `_source_file, _source_line, _load_id, _loaded_at`;
- `raw._loads` (manifest, appended per run, one row per contract file), `raw._rejects` (quarantined
  records, appended per run), `raw._drift` (columns not in the contract, and with a null table_name CSV
  files not in the contract, which are not landed; per run) and
  `raw._load_failures` (runs that failed and were rolled back).

How it stays both fast and honest:
- DuckDB parses the CSV (`read_csv`, strict RFC 4180, rejects stored), because parsing in Python would be
  an order of magnitude slower.
- DuckDB's reject bookkeeping is not trusted alone: an unterminated quote makes it drop that record and
  everything after it without a trace. So every file is also scanned here (vectorised numpy over the raw
  bytes, in a background thread while DuckDB works on the previous file) to find each record's start byte
  and physical line. A file lands only when `records in file = rows landed + rows rejected` holds exactly;
  anything else is a loud error naming the file.
- Physical lines (`_source_line`) come from that scan and are attached in SQL with a POSITIONAL JOIN (DuckDB
  returns good rows in file order when `parallel=false`); DuckDB's rejects are mapped to scanned records
  by their exact start byte, so a rejected record is reported with the physical line it starts on.
- Contract breaks that make a file unreadable (missing contract column, empty file, mixed or bare-CR line
  ends, unreconciled counts) stop the load with a message naming the file and line; every header is
  checked before any data is landed, so all broken headers are reported at once.
- Refused whole, not quarantined row by row: a file cut short in transfer (every record ends with its
  line end, so: none at EOF, a last record with fewer fields than the header, or a quote open at EOF),
  since its lost rows would read as deletions downstream and the cut can fall before an optional last
  field; a compressed or binary file (by its first bytes); a file not in UTF-8 (DuckDB flags each such
  record; the encoding is the file's, and quarantining the rows with accents would drop people silently).
- NUL bytes are valid UTF-8, so DuckDB lands them: the scan finds them (a cheap reduction per window) and
  quarantines their records naming the column.
- The whole load is one transaction: on any error the warehouse keeps its previous good state. Files land
  largest first (`_largest_first`: a large file landed late in the transaction is several times slower);
  the manifest keeps the contract's order.

The byte scan and the header check are `extract.scan`; this module plans the load, lands each file with
DuckDB and keeps the manifests.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from . import contract
from .contract import Table
from .scan import BINARY_HEADER, BOM, SIGNATURES, FileScan, LoadError, check_header, scan_file
from .warehouse import open_warehouse, transaction

__all__ = ["LoadError", "LoadResult", "bare_duckdb_load", "connect", "load_product", "scan_file"]

_RAW_TEXT_LIMIT = 1_000_000  # characters of a rejected record kept in raw._rejects
_LOOKAHEAD = 1  # files scanned ahead of DuckDB (each scan holds two int64 arrays of its records)


@dataclass
class LoadResult:
    load_id: str
    files: int = 0
    rows_landed: int = 0
    rows_rejected: int = 0
    tables: dict[str, int] = field(default_factory=dict)


@dataclass
class _Reject:
    index: int  # data record index in the file
    column: str | None
    error_type: str
    message: str


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _raw_record(scan: FileScan, i: int) -> str:
    """The raw bytes of data record i as quarantined in raw._rejects, decoded leniently (the record may be
    invalid UTF-8).

    A record runs to the next record's start (or EOF) minus line ends: its content cannot end with
    CR or LF, since an unquoted line end would have ended it. NUL is shown as `\\x00`, like the bytes
    that are not UTF-8.
    """
    data, size = scan.record_bytes(i, _RAW_TEXT_LIMIT * 4)
    complete = len(data) == size
    text = (data.rstrip(b"\r\n") if complete else data).decode("utf-8", errors="backslashreplace")
    text = text.replace("\x00", "\\x00")
    if not complete or len(text) > _RAW_TEXT_LIMIT:
        text = text[:_RAW_TEXT_LIMIT] + f"... [truncated: the record holds about {size} bytes]"
    return text


# --------------------------------------------------------------------------------------------- DuckDB

_LINEAGE_DDL = "_source_file varchar, _source_line bigint, _load_id varchar, _loaded_at timestamp"

_META_DDL = {
    "_loads": """load_id varchar, file_group varchar, table_name varchar, raw_table varchar,
        source_file varchar, source_path varchar, sha256 varchar, bytes bigint, modified_at timestamp,
        rows_in_file bigint, rows_landed bigint, rows_rejected bigint, blank_lines bigint,
        drift_columns varchar, status varchar, loaded_at timestamp""",
    "_rejects": """load_id varchar, file_group varchar, table_name varchar, source_file varchar,
        line bigint, record_number bigint, column_name varchar, error_type varchar, reason varchar,
        raw_record varchar, rejected_at timestamp""",
    "_drift": """load_id varchar, table_name varchar, source_file varchar, column_name varchar,
        header_position bigint, detected_at timestamp""",
    "_load_failures": "load_id varchar, failed_at timestamp, error varchar",
}


def connect(warehouse: Path, plain: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-write (`open_warehouse`; `plain`: DuckDB's defaults, for the benchmark's
    reference), explaining the one error people hit: the file is open elsewhere."""
    try:
        warehouse.parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(str(warehouse)) if plain else open_warehouse(warehouse)
    except duckdb.IOException as exc:
        if "Could not set lock" in str(exc):
            raise LoadError(
                f"the warehouse {warehouse} is open in another process (a DuckDB shell, a notebook, "
                f"`dbt docs serve`, a second pipeline run...), and DuckDB allows one writer per file. "
                f"Close that program and run again. DuckDB said: {exc}"
            ) from None
        raise LoadError(f"the warehouse {warehouse} cannot be opened: {exc}") from None
    except OSError as exc:  # its folder cannot be created: a file in the way, no permission
        raise LoadError(f"the warehouse folder {warehouse.parent} cannot be created: {exc}") from None


def _meta_columns(name: str) -> list[tuple[str, str]]:
    """(column, type) pairs of a bookkeeping table, from its DDL above."""
    pairs = []
    for part in " ".join(_META_DDL[name].split()).split(", "):
        col, typ = part.split()
        pairs.append((col, typ))
    return pairs


def _ensure_meta(con: duckdb.DuckDBPyConnection) -> None:
    """Create the bookkeeping tables, or add the columns a warehouse from an older version lacks."""
    con.execute("create schema if not exists raw")
    have: dict[str, set[str]] = {}
    for table_name, column_name in con.execute(
        "select table_name, column_name from duckdb_columns() where schema_name = 'raw' "
        "and database_name = current_database() and list_contains(?, table_name)",
        [list(_META_DDL)],
    ).fetchall():
        have.setdefault(table_name, set()).add(column_name)
    for name, ddl in _META_DDL.items():
        if name not in have:
            con.execute(f"create table raw.{name} ({ddl})")
            continue
        for col, typ in _meta_columns(name):
            if col not in have[name]:
                con.execute(f"alter table raw.{name} add column {col} {typ}")


def _insert_sql(name: str, n_rows: int = 1) -> str:
    cols = [c for c, _ in _meta_columns(name)]
    row = "(" + ", ".join("?" for _ in cols) + ")"
    return f"insert into raw.{name} ({', '.join(cols)}) values {', '.join([row] * n_rows)}"


def _read_csv_sql(path: Path, header: list[str], checked: bool) -> str:
    columns = "{" + ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in header) + "}"
    opts = (
        f"header=true, delim=',', quote='\"', escape='\"', auto_detect=false, columns={columns}"
        if not checked
        else f"header=true, delim=',', quote='\"', escape='\"', auto_detect=false, columns={columns}, "
        "strict_mode=true, store_rejects=true, ignore_errors=true, parallel=false, "
        "rejects_table='_edreflect_rejects', rejects_scan='_edreflect_reject_scans'"
    )
    return f"read_csv({_lit(str(path))}, {opts})"


def _empty_table(con: duckdb.DuckDBPyConnection, table: Table, drift: list[str] | None = None) -> None:
    cols = ", ".join(f"{_q(c)} varchar" for c in (*table.column_names, *(drift or ())))
    con.execute(f"create or replace table {table.raw_relation} ({cols}, {_LINEAGE_DDL})")


def _merge(by_index: dict[int, _Reject], new: _Reject) -> None:
    """One reject per record: the reasons of a record rejected more than once are joined."""
    r = by_index.setdefault(new.index, new)
    if r is new:
        return
    for column in (new.column or "").split(", "):
        if column and (r.column is None or column not in r.column.split(", ")):
            r.column = column if r.column is None else f"{r.column}, {column}"
    if new.error_type not in r.error_type.split(", "):
        r.error_type += f", {new.error_type}"
        r.message += f"; {new.message}"


def _duck_rejects(con: duckdb.DuckDBPyConnection, scan: FileScan, rel: str) -> dict[int, _Reject]:
    """DuckDB's rejects, each mapped to a scanned record by its exact start byte."""
    rows = con.execute(
        "select line_byte_position, csv_line, column_name, error_type, error_message "
        "from _edreflect_rejects order by line_byte_position, column_idx"
    ).fetchall()
    by_index: dict[int, _Reject] = {}
    not_utf8: list[tuple[int, str | None]] = []
    for lbp, csv_line, column, error_type, message in rows:
        # line_byte_position is 1-based and points at csv_line, which may begin with the line end
        # characters DuckDB skipped before the record.
        text = csv_line or ""
        start = int(lbp) - 1 + (len(text) - len(text.lstrip("\r\n")))
        i = int(np.searchsorted(scan.starts, start))
        if i >= scan.records or int(scan.starts[i]) != start:
            raise LoadError(
                f"{rel}: DuckDB rejected a record at byte {start} that the record scan does not know "
                f"({error_type}: {message}); the file cannot be reconciled, nothing of it was landed"
            )
        if error_type == "INVALID ENCODING":
            not_utf8.append((i, column))
        _merge(by_index, _Reject(i, column, str(error_type), str(message)))
    if not_utf8:
        _refuse_not_utf8(scan, rel, not_utf8)
    return by_index


def _where(scan: FileScan, k: int) -> str:
    """`column 5 (reportName)`: the header position a person can count to, and the name."""
    return f"column {k} ({scan.header[k - 1] if k <= len(scan.header) else 'beyond the header'})"


def _refuse_not_utf8(scan: FileScan, rel: str, bad: list[tuple[int, str | None]]) -> None:
    """A wrong encoding is a property of the file: quarantining only the records with accented letters
    would drop those people silently, so the file is refused (DuckDB found them: no extra pass here)."""
    i, column = bad[0]
    n = len({j for j, _ in bad})
    where = f", {_where(scan, scan.header.index(column) + 1)}" if column in scan.header else ""
    raise LoadError(
        f"{rel}: line {int(scan.lines[i])}{where}: the file is not valid UTF-8 "
        f"({n} record(s) hold bytes that are not UTF-8, this is the first); the contract requires UTF-8: "
        "the file was exported or re-saved in another encoding (e.g. Windows-1252) or damaged in transfer. "
        "Fetch it again; if the fresh copy fails the same way, ask the vendor to re-export it as UTF-8"
    )


def _nul_rejects(scan: FileScan) -> list[_Reject]:
    """The records holding a NUL byte (valid UTF-8, so DuckDB lands them), with the columns named."""
    out = []
    records, first = np.unique(np.searchsorted(scan.starts, scan.nuls, side="right") - 1, return_index=True)
    for i, offsets in zip(records.tolist(), np.split(scan.nuls, first[1:]), strict=True):  # nuls are sorted
        found = np.unique(scan.field_numbers(i, offsets - scan.starts[i])).tolist()
        names = [scan.header[k - 1] for k in found if k <= len(scan.header)]
        why = (
            f"a NUL byte (0x00) in {', '.join(_where(scan, k) for k in found)}: NUL is not text (a damaged "
            "transfer or a broken value in the export); the record was quarantined"
        )
        out.append(_Reject(i, ", ".join(names) or None, "NUL BYTE", why))
    return out


def _lines_relation(con: duckdb.DuckDBPyConnection, lines: np.ndarray) -> str:
    """A relation of `_source_line` values in order: pure SQL when the records are consecutive lines."""
    if lines.size == 0 or int(lines[-1] - lines[0]) == lines.size - 1:  # one record per line, no gaps
        first = int(lines[0]) if lines.size else 2
        return f"(select range as _source_line from range({first}, {first + lines.size}))"
    con.register("_edreflect_lines", pd.DataFrame({"_source_line": lines}))
    return "_edreflect_lines"


def _counts(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[int, int, int, int]:
    """Rows, rows that came from the file, rows with a line, and DuckDB's rejects so far: one statement."""
    ((total, from_file, with_line, rejects),) = con.execute(
        f"select count(*), count(_source_file), count(_source_line), "
        f"(select count(*) from _edreflect_rejects) from {relation}"
    ).fetchall()
    return int(total), int(from_file), int(with_line), int(rejects)


def _create_raw(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    source: str,
    lines: np.ndarray,
    load_id: str,
    loaded_at: dt.datetime,
) -> None:
    """(Re)create the raw table from `source` rows in file order, with their physical lines attached."""
    try:
        lines_rel = _lines_relation(con, lines)
        con.execute(
            f"""create or replace table {table.raw_relation} as
            select r.*, l._source_line, {_lit(load_id)}::varchar as _load_id, ?::timestamp as _loaded_at
            from ({source}) r positional join {lines_rel} l""",
            [loaded_at],
        )
    finally:
        with contextlib.suppress(duckdb.Error):  # an aborted transaction must not hide the error
            con.unregister("_edreflect_lines")


def _land_file(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    scan: FileScan,
    drift: list[str],
    load_id: str,
    loaded_at: dt.datetime,
) -> list[_Reject]:
    rel = table.relative_path
    columns = ", ".join(_q(c) for c in (*table.column_names, *drift))
    read = f"select {columns}, {_lit(rel)}::varchar as _source_file from "
    try:  # Optimistic: assume DuckDB rejects nothing, so every scanned record's line is attached.
        _create_raw(
            con,
            table,
            read + _read_csv_sql(scan.path, scan.header, checked=True),
            scan.lines,
            load_id,
            loaded_at,
        )
    except duckdb.InvalidInputException as exc:
        _scan_readable(scan.path, rel, find_lone_cr=True)  # names the line when a bare CR is the cause
        raise LoadError(f"{rel}: DuckDB could not parse the file: {exc}") from None
    total, from_file, with_line, duck_rejects = _counts(con, table.raw_relation)
    by_index: dict[int, _Reject] = {}
    if duck_rejects:
        by_index = _duck_rejects(con, scan, rel)
        con.execute("delete from _edreflect_rejects")  # the temp table collects every scan's rejects
        # The optimistic join assumed no rejects: re-attach the lines of the good records only.
        good = np.ones(scan.records, dtype=bool)
        good[np.fromiter(by_index, dtype=np.int64)] = False
        landed = f"select {columns}, _source_file from {table.raw_relation} where _source_file is not null"
        _create_raw(con, table, landed, scan.lines[good], load_id, loaded_at)
    if scan.nuls.size:  # DuckDB landed these records: take them out again (their lines are unique)
        nul = _nul_rejects(scan)
        con.execute(
            f"delete from {table.raw_relation} where _source_line in (select unnest(?::bigint[]))",
            [[int(scan.lines[r.index]) for r in nul if r.index not in by_index]],
        )
        for r in nul:
            _merge(by_index, r)
    if duck_rejects or scan.nuls.size:
        total, from_file, with_line, _ = _counts(con, table.raw_relation)
    if not (total == from_file == with_line) or scan.records != from_file + len(by_index):
        raise LoadError(
            f"{rel}: the counts do not reconcile: the record scan found {scan.records} data record(s), "
            f"DuckDB returned {from_file} row(s) and {len(by_index)} were rejected; nothing of this file "
            "was landed (the file is malformed in a way the loader cannot attribute to a line: check its "
            "quoting)"
        )
    return list(by_index.values())


# --------------------------------------------------------------------------------------------- the load


def _plan(product_dir: Path) -> list[tuple[Table, Path | None]]:
    """Each contract table with its file, or None when the contract allows it to be absent."""
    try:
        if not product_dir.is_dir():
            what = "is not a folder" if product_dir.exists() else "does not exist"
            raise LoadError(f"{product_dir}: the data product folder {what}")
    except OSError as exc:
        raise LoadError(
            f"{product_dir}: cannot read the data product folder: {exc.strerror or exc}"
        ) from None
    plan: list[tuple[Table, Path | None]] = []
    problems: list[str] = []
    group_present: dict[str, bool] = {}
    for t in contract.tables():
        try:  # for a user without the right, an unreadable folder makes even `exists()` fail (EACCES)
            if t.file_group not in group_present:
                gdir = product_dir / t.file_group
                present = gdir.is_dir() and any(
                    (product_dir / u.relative_path).exists() for u in contract.tables_in_group(t.file_group)
                )
                group_present[t.file_group] = present
                if not present and t.file_group not in contract.OPTIONAL_GROUPS:
                    problems.append(f"{t.file_group}/: required file group missing")
            path = product_dir / t.relative_path
            if path.is_file():
                plan.append((t, path))
            elif path.exists():
                problems.append(
                    f"{t.relative_path}: not a regular file (a folder, a FIFO...): cannot be read"
                )
            elif t.name in contract.OPTIONAL_TABLES or not group_present[t.file_group]:
                plan.append((t, None))
            elif group_present[t.file_group]:
                problems.append(f"{t.relative_path}: file missing from a delivered file group")
        except OSError as exc:
            problems.append(f"{t.relative_path}: cannot be read: {exc.strerror or exc}")
    if problems:
        raise LoadError("the data product is incomplete:\n  " + "\n  ".join(problems))
    # Check every file's start and end, and every header, before the long work starts, and report all
    # contract breaks at once.
    for t, path in plan:
        try:
            header = [] if path is None else _quick_check(path, t.relative_path)
            if header:  # an empty file is reported by the scan
                check_header(header, t, t.relative_path)
        except LoadError as exc:
            problems.append(str(exc))
    if len(problems) == 1:
        raise LoadError(problems[0])
    if problems:
        raise LoadError(f"{len(problems)} files break the contract:\n  " + "\n  ".join(problems))
    return plan


def _quick_check(path: Path, rel: str) -> list[str]:
    """The first line's field names (the full byte scan re-reads the header exactly later).

    Refuses up front what is no CSV text at all (compressed, archived, UTF-16, binary: its "header" would
    be reported as missing every column, or fail to parse) and a file cut short in transfer (the scan names
    the line), so that a broken delivery is refused before minutes of loading, all such files at once.
    """
    try:
        with open(path, "rb") as fh:
            first = fh.readline(1 << 20)
            fh.seek(max(fh.seek(0, io.SEEK_END) - 1, 0))
            last = fh.read(1) or b"\n"  # an empty file is reported by the scan
    except OSError as exc:
        raise LoadError(f"{rel}: cannot read the file: {exc.strerror or exc}") from None
    for magic, (what, fix) in SIGNATURES.items():
        if first.startswith(magic):
            raise LoadError(
                f"{rel}: line 1: the file is {what}, not plain UTF-8 CSV text: {fix}, then load again"
            )
    if b"\x00" in first:
        raise LoadError(f"{rel}: line 1: {BINARY_HEADER}")
    if last != b"\n":
        _scan_readable(path, rel)  # refuses the file as truncated, naming the line of its last record
    text = first.removeprefix(BOM).decode("utf-8", errors="replace").rstrip("\r\n")
    try:
        return next(csv.reader([text]), [])
    except csv.Error as exc:
        raise LoadError(f"{rel}: line 1: the header cannot be read as CSV ({exc})") from None


def _unknown_files(product_dir: Path) -> list[str]:
    """CSV files the contract does not know (a new vendor table?): reported as drift, not landed."""
    known = {t.relative_path for t in contract.tables()}
    return sorted(
        rel for p in product_dir.rglob("*.csv") if (rel := p.relative_to(product_dir).as_posix()) not in known
    )


def _scan_readable(path: Path, rel: str, find_lone_cr: bool = False) -> FileScan:
    try:
        return scan_file(path, rel, find_lone_cr)
    except OSError as exc:  # removed, replaced or unreadable since the plan was made
        raise LoadError(f"{rel}: cannot read the file: {exc.strerror or exc}") from None


def _largest_first(plan: list[tuple[Table, Path | None]]) -> list[tuple[Table, Path | None]]:
    """The plan with its largest files first, the very largest second. Measured on the 1 GB product (four
    loads in each order): a large file landed late in the load's transaction took DuckDB 3.6-7.0 s (the
    277 MB `snapshots.activityWorks.csv`), landed first 1.4-1.9 s; the whole load 16.3-20.9 s against
    18.9-24.8 s. The first file's scan is the one part of the load nothing overlaps (DuckDB waits for its
    lines; every later scan runs while DuckDB lands the file before it), and the largest file's scan is the
    longest: landed second, its scan overlaps the first file's landing (1 GB, two runs of three interleaved
    pairs: the load 10.9-11.0 s against 11.3-11.5 s, 11.1-11.4 s against 11.6-12.1 s)."""

    def size(entry: tuple[Table, Path | None]) -> int:
        try:
            return 0 if entry[1] is None else entry[1].stat().st_size
        except OSError:  # gone since the plan was made: its scan says so
            return 0

    ordered = sorted(plan, key=size, reverse=True)  # stable: equal sizes keep the contract's order
    return ordered[1:2] + ordered[:1] + ordered[2:]


def _scans(plan: list[tuple[Table, Path | None]], pool: ThreadPoolExecutor) -> Iterator[FileScan | None]:
    """Scan files a little ahead of DuckDB (numpy and DuckDB both release the GIL)."""
    pending: list[Future[FileScan] | None] = []
    todo = iter(plan)

    def submit() -> None:
        nxt = next(todo, None)
        if nxt is not None:
            t, p = nxt
            pending.append(None if p is None else pool.submit(_scan_readable, p, t.relative_path))

    for _ in range(_LOOKAHEAD):
        submit()
    for _ in range(len(plan)):
        fut = pending.pop(0)
        submit()
        yield None if fut is None else fut.result()


def load_product(product_dir: Path, warehouse: Path, load_id: str | None = None) -> LoadResult:
    """Replace every raw table with the delivery's content, in one transaction, and append the manifest."""
    product_dir = Path(product_dir)
    warehouse = Path(warehouse)
    load_id = load_id or uuid.uuid4().hex
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    result = LoadResult(load_id=load_id)
    con = connect(warehouse)
    current = ""  # the file being landed, to name it in errors whose message does not
    try:
        plan = _plan(product_dir)
        con.execute("set enable_progress_bar = false")
        with transaction(con):  # rolled back on any error below: the raw layer keeps its previous state
            _ensure_meta(con)
            rows: dict[str, list[object]] = {}
            landing = _largest_first(plan)
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="csv-scan") as pool:
                for (t, path), scan in zip(landing, _scans(landing, pool), strict=True):
                    current = f"{t.relative_path}: "
                    rows[t.name] = _load_one(con, t, path, scan, load_id, loaded_at, result)
            current = ""
            # the manifest and the result in the contract's order, whatever the landing order
            con.execute(_insert_sql("_loads", len(plan)), [v for t, _ in plan for v in rows[t.name]])
            result.tables = {t.name: result.tables[t.name] for t, _ in plan}
            unknown = _unknown_files(product_dir)
            if unknown:
                con.executemany(
                    _insert_sql("_drift"), [(load_id, None, rel, None, None, loaded_at) for rel in unknown]
                )
        con.close()
    except BaseException as exc:
        _record_failure(con, load_id, exc)
        with contextlib.suppress(duckdb.Error):
            con.close()
        if isinstance(exc, duckdb.Error):  # e.g. the disk filled up: say so without a traceback
            raise LoadError(
                f"{current}landing the product in {warehouse} failed and was rolled back (the raw layer "
                f"keeps its previous state): {exc}"
            ) from exc
        if isinstance(exc, OSError):  # e.g. a file removed or replaced while it was being landed
            raise LoadError(
                f"{current}reading the delivery failed and the load was rolled back (the raw layer keeps "
                f"its previous state): {exc.strerror or exc}"
            ) from exc
        raise
    return result


def _load_one(
    con: duckdb.DuckDBPyConnection,
    t: Table,
    path: Path | None,
    scan: FileScan | None,
    load_id: str,
    loaded_at: dt.datetime,
    result: LoadResult,
) -> list[object]:
    """Land one contract table; returns its manifest row (inserted with the others in one statement)."""
    rel = t.relative_path
    drift: list[str] = []
    rejects: list[_Reject] = []
    if path is None or scan is None:
        _empty_table(con, t)
        landed = 0
        status = "absent"
    else:
        drift = check_header(scan.header, t, rel)
        if scan.records == 0:
            _empty_table(con, t, drift)
            landed = 0
        else:
            rejects = _land_file(con, t, scan, drift, load_id, loaded_at)
            landed = scan.records - len(rejects)
        status = "loaded_with_rejects" if rejects else "loaded"
        result.files += 1
    rows_in_file = 0 if scan is None else scan.records
    if rows_in_file != landed + len(rejects):  # the invariant the whole design rests on
        raise LoadError(f"{rel}: rows_in_file {rows_in_file} != landed {landed} + rejected {len(rejects)}")
    if rejects:
        assert scan is not None
        con.executemany(
            _insert_sql("_rejects"),
            [
                (load_id, t.file_group, t.name, rel, int(scan.lines[r.index]), r.index + 1)
                + (r.column, r.error_type, r.message, _raw_record(scan, r.index), loaded_at)
                for r in sorted(rejects, key=lambda r: r.index)
            ],
        )
    if drift:
        assert scan is not None
        con.executemany(
            _insert_sql("_drift"),
            [(load_id, t.name, rel, c, scan.header.index(c) + 1, loaded_at) for c in drift],
        )
    result.rows_landed += landed
    result.rows_rejected += len(rejects)
    result.tables[t.name] = landed
    files = (
        (None,) * 4 if scan is None else (str(scan.path.resolve()), scan.sha256, scan.size, scan.modified_at)
    )
    counts = (rows_in_file, landed, len(rejects), None if scan is None else scan.blank_lines)
    tail = (", ".join(drift) or None, status, loaded_at)
    return [load_id, t.file_group, t.name, t.raw_relation, rel, *files, *counts, *tail]


def _record_failure(con: duckdb.DuckDBPyConnection, load_id: str, exc: BaseException) -> None:
    """After the rollback, leave a trace of the failed run (its own small transaction)."""
    try:
        con.execute("create schema if not exists raw")
        con.execute(f"create table if not exists raw._load_failures ({_META_DDL['_load_failures']})")
        con.execute(
            _insert_sql("_load_failures"),
            [load_id, dt.datetime.now(dt.UTC).replace(tzinfo=None), f"{type(exc).__name__}: {exc}"[:10_000]],
        )
    except duckdb.Error:
        pass  # the original error matters more than its trace


# --------------------------------------------------------------------------------------------- benchmark


def bare_duckdb_load(product_dir: Path, warehouse: Path) -> int:
    """The benchmark's reference: DuckDB's own `read_csv` of the same files, no checks, no lineage.

    Same dialect as `load_product` (auto-detect off, all VARCHAR, header names as they are), so the ratio
    of the two timings is the price of the checks. Returns the number of rows loaded.
    """
    product_dir = Path(product_dir)
    con = connect(Path(warehouse), plain=True)  # DuckDB's defaults: the reference
    rows = 0
    try:
        con.execute("set enable_progress_bar = false")
        con.execute("create schema if not exists raw")
        for t in contract.tables():
            path = product_dir / t.relative_path
            if not path.is_file():
                continue
            with open(path, newline="", encoding="utf-8-sig") as fh:
                header = next(csv.reader(fh), [])
            con.execute(
                f"create or replace table {t.raw_relation} as select * from "
                f"{_read_csv_sql(path, header, checked=False)}"
            )
            rows += con.execute(f"select count(*) from {t.raw_relation}").fetchall()[0][0]
    finally:
        con.close()
    return rows
