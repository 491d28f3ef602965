"""The CSV files: one writer per contract table, all open at once while the product is written.

Every table's file is written in contract column order; the columns a document does not set are filled by
the generic fillers (`fillers.py`). A table with its own `_id` keeps a pool of its first ids, which the
generic reference filler draws from.
"""

from __future__ import annotations

import csv
import operator
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from extract.contract import Table

from .core import BOM_TABLES, CRLF_TABLES
from .fillers import filler

if TYPE_CHECKING:
    from .core import Context


POOL_CAP = 4096  # ids kept per table for the generic reference filler
BUFFER = 1 << 17


class TableWriter:
    """One contract table's open file: fills every contract column, in contract order.

    Why plans: the domain code passes the same keys at a given call site, so the columns it leaves to the
    generic fillers are worked out once per key set, and a row is then one C-level `itemgetter` call.
    Rows are written in batches (`writerows`) to keep per-row Python overhead low at GB sizes.
    """

    def __init__(self, table: Table, fh: IO[str], crlf: bool, header: bool = True) -> None:
        self.table = table
        self.fh = fh
        self.writer = csv.writer(fh, lineterminator="\r\n" if crlf else "\n")
        self.fillers: dict[str, Callable[[], Any]] = {}
        self.getter = operator.itemgetter(*table.column_names)
        self.plans: dict[tuple[str, ...], tuple[tuple[str, Callable[[], Any]], ...]] = {}
        self.pool: list[str] | None = [] if table.has_own_id else None
        self.pool_open = self.pool is not None
        self.rows = 0
        self.buffer: list[tuple[Any, ...]] = []
        if header:
            self.writer.writerow(table.column_names)

    def row(self, values: dict[str, Any]) -> None:
        keys = tuple(values)
        plan = self.plans.get(keys)
        if plan is None:
            plan = self.plans[keys] = tuple((n, f) for n, f in self.fillers.items() if n not in values)
        for name, fill in plan:
            values[name] = fill()
        buffer = self.buffer
        buffer.append(self.getter(values))
        if len(buffer) >= 512:
            self.flush()
        if self.pool_open:
            self.pool.append(values["_id"])  # type: ignore[union-attr]
            self.pool_open = len(self.pool) < POOL_CAP  # type: ignore[arg-type]

    def flush(self) -> None:
        self.rows += len(self.buffer)
        self.writer.writerows(self.buffer)
        self.buffer.clear()


@contextmanager
def open_files(ctx: Context, root: Path | None = None, header: bool = True) -> Iterator[None]:
    """Every table's file under `root`; a chunk's part files (header=False) carry rows only."""
    root = ctx.out_dir if root is None else root
    pools = {name: out.pool for name, out in ctx.outs.items()}
    handles: list[IO[str]] = []
    try:
        for t in ctx.tables.values():
            folder = root / t.file_group
            folder.mkdir(parents=True, exist_ok=True)
            fh = open(folder / t.file_name, "w", encoding="utf-8", newline="", buffering=BUFFER)  # noqa: SIM115
            handles.append(fh)
            if header and t.name in BOM_TABLES:
                fh.write("\ufeff")
            out = ctx.outs[t.name] = TableWriter(t, fh, crlf=t.name in CRLF_TABLES, header=header)
            if pools.get(t.name) is not None:
                out.pool = pools[t.name]
        for t in ctx.tables.values():  # fillers may need other tables' pools: after all are open
            ctx.outs[t.name].fillers = {c.name: filler(ctx, t, c) for c in t.columns}
        yield
        for out in ctx.outs.values():
            out.flush()
    finally:
        for fh in handles:
            fh.close()
