"""Land a data product folder in the `raw` schema of the DuckDB warehouse (FIRST CUT, to be hardened).

Interface other layers rely on:
- one table per contract table, `raw.<Table.key>`, all columns VARCHAR with the contract's exact column
  names (`_rootId`, `name.first`), then any drift columns, then the lineage columns
  `_source_file, _source_line, _load_id, _loaded_at`;
- `raw._loads` (manifest) and `raw._rejects` (quarantine).
"""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from . import contract


class LoadError(RuntimeError):
    pass


@dataclass
class LoadResult:
    load_id: str
    files: int = 0
    rows_landed: int = 0
    rows_rejected: int = 0
    tables: dict[str, int] = field(default_factory=dict)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return next(csv.reader(fh), [])


def load_product(product_dir: Path, warehouse: Path, load_id: str | None = None) -> LoadResult:
    load_id = load_id or uuid.uuid4().hex
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    result = LoadResult(load_id=load_id)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create schema if not exists raw")
        for t in contract.tables():
            path = product_dir / t.relative_path
            cols = ", ".join(f"{_q(c)} varchar" for c in t.column_names)
            lineage = "_source_file varchar, _source_line bigint, _load_id varchar, _loaded_at timestamp"
            con.execute(f"create or replace table {t.raw_relation} ({cols}, {lineage})")
            if not path.exists():
                continue
            header = _header(path)
            missing = [c for c in t.column_names if c not in header]
            if missing:
                raise LoadError(f"{path}: line 1: contract column(s) missing from the header: {', '.join(missing)}")
            spec = "{" + ", ".join(f"'{h}': 'VARCHAR'" for h in header) + "}"
            select = ", ".join(_q(c) for c in t.column_names)
            con.execute(
                f"""insert into {t.raw_relation}
                select {select}, ?, 1 + row_number() over (), ?, ?
                from read_csv(?, header=true, delim=',', quote='"', escape='"', auto_detect=false,
                              columns={spec}, parallel=false)""",
                [t.relative_path, load_id, loaded_at, str(path)],
            )
            n = con.execute(f"select count(*) from {t.raw_relation}").fetchone()[0]
            result.files += 1
            result.rows_landed += n
            result.tables[t.name] = n
    finally:
        con.close()
    return result
