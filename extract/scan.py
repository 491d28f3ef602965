"""Read a data product CSV file by its bytes: find every record, its start byte and physical line, and
refuse what breaks the contract's file format (see `extract.load` for why the loader needs this).

`scan_file` is the byte scan (vectorised numpy over a memory map, in bounded windows); `check_header`
checks a header against the contract; `LoadError` is the error of both and of the loader.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import mmap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import contract
from .contract import Table

BOM = b"\xef\xbb\xbf"
_QUOTE, _COMMA, _LF, _CR, _NUL = 34, 44, 10, 13, 0
# First bytes of files that are not CSV text, and what to do about each.
SIGNATURES = {
    b"\x1f\x8b": ("gzip-compressed", "decompress it (`gzip -dc`) under its .csv name"),
    b"PK\x03\x04": ("a ZIP archive (or an Excel workbook)", "extract the CSV file from it"),
    b"BZh": ("bzip2-compressed", "decompress it (`bzip2 -dc`) under its .csv name"),
    b"\xfd7zXZ\x00": ("xz-compressed", "decompress it (`xz -dc`) under its .csv name"),
    b"\x28\xb5\x2f\xfd": ("zstd-compressed", "decompress it (`zstd -dc`) under its .csv name"),
    b"7z\xbc\xaf\x27\x1c": ("a 7-Zip archive", "extract the CSV file from it"),
    b"\xff\xfe": ("UTF-16 text", "convert it to UTF-8 (`iconv -f UTF-16 -t UTF-8`)"),
    b"\xfe\xff": ("UTF-16 text", "convert it to UTF-8 (`iconv -f UTF-16 -t UTF-8`)"),
}
BINARY_HEADER = (
    "the header holds NUL bytes: this is binary data (or UTF-16 text), not a CSV text file; fetch it "
    "again, and decompress it or convert it to UTF-8 if it was delivered that way"
)
_WINDOW = 1 << 24  # bytes scanned per numpy pass: bounds the scan's working memory (a few times this)


class LoadError(RuntimeError):
    """The delivery cannot be landed; the message names the file, the line and what is wrong."""


@dataclass
class FileScan:
    """What the byte scan found in one file: its records and where they start."""

    path: Path
    size: int
    sha256: str
    modified_at: dt.datetime
    header: list[str]
    starts: np.ndarray  # byte offset of every data record (header excluded, blank lines excluded)
    lines: np.ndarray  # physical line (1-based, header = 1) where each data record starts
    blank_lines: int
    nuls: np.ndarray  # byte offset of every NUL byte (valid UTF-8, but no text)

    @property
    def records(self) -> int:
        return int(self.starts.size)

    def record_bytes(self, i: int, limit: int | None = None) -> tuple[bytes, int]:
        """Data record i (its first `limit` bytes), and its size including line ends and blank lines."""
        start = int(self.starts[i])
        stop = int(self.starts[i + 1]) if i + 1 < self.records else self.size
        with open(self.path, "rb") as fh:
            fh.seek(start)
            return fh.read(stop - start if limit is None else min(stop - start, limit)), stop - start

    def field_numbers(self, i: int, offsets: np.ndarray) -> np.ndarray:
        """The 1-based field of data record i that holds each byte offset (relative to the record's start),
        by the scan's quote rules: a comma outside quotes ends a field. Reads the whole record (Python's csv
        module would stop at a field over 128 KB)."""
        a = np.frombuffer(self.record_bytes(i)[0], np.uint8)
        q = np.flatnonzero(a == _QUOTE)
        prev = np.full(q.size, _COMMA, np.uint8)  # a quote at the record's start is at a field start
        prev[q > 0] = a[q[q > 0] - 1]
        not_start = (prev != _COMMA) & (prev != _LF) & (prev != _CR) & (prev != _QUOTE)
        q = q[_significant_quotes(q, not_start, prev == _QUOTE, 0)]
        commas = np.flatnonzero(a == _COMMA)
        return np.searchsorted(commas[(np.searchsorted(q, commas) & 1) == 0], offsets) + 1


def scan_file(path: Path, rel: str, find_lone_cr: bool = False) -> FileScan:
    """Find every record of a CSV file by its bytes (RFC 4180 quote parity), in bounded memory.

    A `"` at a field start opens quoting; inside quotes every `"` toggles; a `"` inside an unquoted field
    (`a"b`) is a literal, as DuckDB reads it. A LF outside quotes ends a record; a preceding CR belongs to
    the terminator. `find_lone_cr` adds a pass looking for a CR outside quotes that is not part of a CRLF
    (DuckDB refuses such a file as a whole): only run after DuckDB refused a file, to name the line.
    """
    stat = path.stat()
    size = stat.st_size
    modified_at = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).replace(tzinfo=None)
    if size == 0:
        raise LoadError(f"{rel}: line 1: the file is empty (a table without rows must still have its header)")
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        buf = np.frombuffer(mm, dtype=np.uint8)
        try:
            w = _Windows(size, 3 if size >= 3 and bytes(buf[:3]) == BOM else 0, hashlib.sha256())
            for lo in range(0, size, _WINDOW):
                hi = min(size, lo + _WINDOW)
                _scan_window(buf, lo, hi, w, find_lone_cr)
                # done with these pages: drop them from this process (they stay in the page cache)
                mm.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
            layout = _record_layout(w, rel)
            header_bytes = bytes(buf[layout.header_start : layout.header_end])
            ends_with_lf = bool(buf[size - 1] == _LF)
        finally:
            buf = None  # drop every view of the map before it closes  # noqa: F841
    if w.parity == 1 and layout.starts.size == 0:
        raise LoadError(f"{rel}: line 1: the header opens a quote that is never closed")
    nul = np.concatenate(w.nuls).astype(np.int64)
    if nul.size and (layout.starts.size == 0 or nul[0] < layout.starts[0]):
        raise LoadError(f"{rel}: line 1: {BINARY_HEADER}")
    header = _parse_header(header_bytes, rel)
    scan = FileScan(
        path=path,
        size=size,
        sha256=w.sha256.hexdigest(),
        modified_at=modified_at,
        header=header,
        starts=layout.starts,
        lines=layout.lines,
        blank_lines=max(layout.blank, 0),
        nuls=nul,
    )
    _refuse_truncated(scan, rel, unterminated=w.parity == 1, ends_with_lf=ends_with_lf)
    return scan


@dataclass
class _Windows:
    """What the window passes of `scan_file` gather, and the quote state carried from one to the next."""

    size: int
    data_start: int  # 3 after a UTF-8 BOM
    sha256: Any  # a hashlib object, fed window by window
    parity: int = 0  # 1 while inside quotes at the end of the last window
    nl_seen: int = 0  # LFs before this window (in quotes or not): the physical line count
    lone_cr_line: int | None = None
    terms: list[np.ndarray] = field(default_factory=list)  # byte offset of each record-ending LF
    term_lines: list[np.ndarray] = field(default_factory=list)  # the line each of them ends
    term_crs: list[np.ndarray] = field(default_factory=list)  # whether a CR precedes it
    nuls: list[np.ndarray] = field(default_factory=lambda: [np.zeros(0, np.int64)])


def _scan_window(buf: np.ndarray, lo: int, hi: int, w: _Windows, find_lone_cr: bool) -> None:
    """One window of the file: the LFs outside quotes (record ends), their lines and CRs, the NULs, and on
    request the first bare CR outside quotes; carries the quote parity on to the next window."""
    size = w.size
    a = buf[lo:hi]
    try:
        w.sha256.update(a)
        if a.min() == _NUL:  # a reduction without a temporary: ~0.2 ms per window when there is none
            w.nuls.append(np.flatnonzero(a == _NUL) + lo)
        q = np.flatnonzero(a == _QUOTE) + lo
        if q.size:
            # Outside quotes, a quote that is not at a field start is a literal (`ab"`, `a"b`), as
            # DuckDB reads it; inside quotes every quote toggles (a close, or half of a `""`).
            # Whether a quote is outside depends on the ones before it, so when such a stray quote
            # exists, settle this window with a sequential pass over its quotes only.
            prev = np.full(q.size, _LF, np.uint8)
            has_prev = q > w.data_start
            prev[has_prev] = buf[q[has_prev] - 1]
            not_start = (prev != _COMMA) & (prev != _LF) & (prev != _CR) & (prev != _QUOTE)
            outside_q = ((w.parity + np.arange(q.size)) & 1) == 0
            if (outside_q & not_start).any():
                q = q[_significant_quotes(q, not_start, prev == _QUOTE, w.parity)]
        nl = np.flatnonzero(a == _LF) + lo
        outside = ((w.parity + np.searchsorted(q, nl)) & 1) == 0
        term = nl[outside]
        w.terms.append(term)
        w.term_lines.append(np.flatnonzero(outside) + w.nl_seen + 2)
        # a CR right before a record's LF is part of its line end (a LF at offset 0 has none)
        w.term_crs.append(buf[np.maximum(term - 1, 0)] == _CR if term.size else np.zeros(0, bool))
        if find_lone_cr and w.lone_cr_line is None:
            cr = np.flatnonzero(a == _CR) + lo
            if cr.size:
                nxt_cr = np.full(cr.size, _LF, np.uint8)
                has_next = cr + 1 < size
                nxt_cr[has_next] = buf[cr[has_next] + 1]
                bad = cr[(nxt_cr != _LF) & (((w.parity + np.searchsorted(q, cr)) & 1) == 0)]
                if bad.size:
                    w.lone_cr_line = int(w.nl_seen + np.searchsorted(nl, bad[0]) + 1)
        w.parity = (w.parity + q.size) & 1
        w.nl_seen += nl.size
    finally:
        a = buf = None  # an error's traceback keeps this frame: no view of the map may outlive it  # noqa: F841


@dataclass
class _Layout:
    """Where the header and the data records are, from the record ends the windows found."""

    header_start: int
    header_end: int
    starts: np.ndarray  # byte offset of every data record
    lines: np.ndarray  # physical line where each starts
    blank: int  # blank lines between records


def _record_layout(w: _Windows, rel: str) -> _Layout:
    """The records between the record ends; refuses a bare CR, a missing header, a leading blank line and
    mixed line ends (each named by its line)."""
    size = w.size
    t = np.concatenate(w.terms).astype(np.int64)
    tl = np.concatenate(w.term_lines).astype(np.int64)
    # record k spans [bounds[k], bounds[k+1]); the last one may end at EOF without a terminator
    bounds = np.concatenate(([w.data_start], t + 1))
    blines = np.concatenate(([1], tl))
    ends = np.concatenate((t, [size]))
    if t.size:
        has_cr = np.concatenate(w.term_crs) & (t > 0)
        ends[:-1] -= has_cr
    else:
        has_cr = np.zeros(0, dtype=bool)
    keep = ends > bounds  # drop blank lines and the empty tail after a final line end
    if w.lone_cr_line is not None:
        raise LoadError(
            f"{rel}: line {w.lone_cr_line}: a bare carriage return (CR) ends a line outside quotes; "
            "the contract allows LF or CRLF line ends only"
        )
    if not keep.any():
        raise LoadError(f"{rel}: line 1: the file holds no header")
    first = int(np.argmax(keep))
    if first != 0:
        raise LoadError(f"{rel}: line 1: the file starts with a blank line instead of the header")
    # one line-end style per file (DuckDB refuses mixed line ends): the header's decides
    if t.size:
        crlf = bool(has_cr[0])
        mixed = np.flatnonzero(has_cr != crlf)
        if mixed.size:
            i = int(mixed[0])
            raise LoadError(
                f"{rel}: line {int(tl[i]) - 1}: ends with {'LF' if crlf else 'CRLF'} while the "
                f"header ends with {'CRLF' if crlf else 'LF'}; a file must use one line-end style"
            )
    return _Layout(
        header_start=int(bounds[0]),
        header_end=int(ends[0]),
        starts=bounds[keep][1:],
        lines=blines[keep][1:],
        blank=int((~keep).sum()) - (1 if size == int(bounds[-1]) else 0),
    )


def _parse_header(header_bytes: bytes, rel: str) -> list[str]:
    try:
        return next(csv.reader([header_bytes.decode("utf-8")], strict=True))
    except UnicodeDecodeError as exc:
        raise LoadError(f"{rel}: line 1: the header is not valid UTF-8 ({exc.reason})") from None
    except csv.Error as exc:
        raise LoadError(f"{rel}: line 1: the header cannot be read as CSV ({exc})") from None


def _refuse_truncated(scan: FileScan, rel: str, unterminated: bool, ends_with_lf: bool) -> None:
    """Refuse a file cut short in transfer (the contract ends every record, the last too, with LF/CRLF).

    Landing the records before the cut would turn every lost row into a deletion downstream, and a
    rejected last record would not show the loss: the cut may fall before an optional last field.
    """
    line = int(scan.lines[-1]) if scan.records else 1
    what = "last record" if scan.records else "only line, the header,"
    if not ends_with_lf:  # the surest sign, so it is named first
        why = f"its {what} has no line end (the file does not end with LF or CRLF)"
    elif unterminated:  # the cut fell right after a line break inside quotes
        why = (
            f"its {what} opens a quoted field that is never closed, so it runs to the end of the file (if a "
            "fresh copy ends the same way, that quote is an export error to report to the vendor)"
        )
    elif scan.records == 0:
        return
    else:
        n = int(scan.field_numbers(scan.records - 1, np.array([scan.size]))[0])  # past its end: its count
        if n >= len(scan.header):
            return
        why = f"its {what} has {n} of the header's {len(scan.header)} fields"
    raise LoadError(
        f"{rel}: line {line}: the file looks truncated (cut short in transfer): {why}. The delivery was "
        "refused and nothing was landed: fetch the file again"
    )


def _significant_quotes(
    q: np.ndarray, not_start: np.ndarray, after_quote: np.ndarray, parity: int
) -> np.ndarray:
    """Which quotes open or close quoting, given the state before the first (rare-path fallback).

    Outside quotes, a quote right after another quote is at a field start only if that one closed a
    quoted field (`"a""b"`); after a literal quote (`a""`) it is a literal too.
    """
    keep = np.ones(q.size, dtype=bool)
    inside = parity == 1
    positions = q.tolist()
    for i, stray in enumerate(not_start.tolist()):
        if inside:
            inside = False
        elif stray or (after_quote[i] and i > 0 and positions[i - 1] == positions[i] - 1 and not keep[i - 1]):
            keep[i] = False
        else:
            inside = True
    return keep


def check_header(header: list[str], table: Table, rel: str) -> list[str]:
    """Contract columns must all be there (any order); returns the drift columns in header order."""
    seen: set[str] = set()
    folded: dict[str, str] = {}
    for pos, name in enumerate(header, start=1):
        if name == "":
            raise LoadError(f"{rel}: line 1, column {pos}: empty column name in the header")
        if name in seen:
            raise LoadError(f"{rel}: line 1, column {pos}: column {name!r} appears twice in the header")
        if name.lower() in folded:  # SQL identifiers are case-insensitive: both cannot be columns
            raise LoadError(
                f"{rel}: line 1, column {pos}: column {name!r} differs from column {folded[name.lower()]!r} "
                "only by letter case"
            )
        folded[name.lower()] = name
        if name in contract.LINEAGE_COLUMNS:
            raise LoadError(f"{rel}: line 1, column {pos}: column {name!r} clashes with a lineage column")
        seen.add(name)
    missing = [c for c in table.column_names if c not in seen]
    if missing:
        raise LoadError(
            f"{rel}: line 1: contract column(s) missing from the header: {', '.join(missing)} "
            f"(table {table.name}; columns are read by name, in any order, but all must be there)"
        )
    known = set(table.column_names)
    return [c for c in header if c not in known]
