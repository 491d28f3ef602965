"""Opening the DuckDB warehouse for writing: every writer of the pipeline opens it here, with one storage
option, so that no writer undoes what another wrote.

`ROW_GROUP_SIZE` is the rows per row group of the tables the load and dbt write (DuckDB's default is
122,880). DuckDB compresses a full row group as the statement writes it, on the statement's threads; a
table smaller than one row group waits, uncompressed, for the next checkpoint, which compresses it on one
thread while every other statement's commit waits. On the 1 GB product the raw snapshot works (66,605
rows, 291 MB of JSON) made a 1.8 s checkpoint of the load's commit and, copied by staging, a 2.4-4 s stall
of both dbt threads. Measured there (interleaved, the same minutes): the load 11.2-11.3 s instead of
12.2-12.3, dbt 20.2-20.8 s instead of 23.2, the warehouse 1.03 GB instead of 0.98 (16,384 rows: the same
times, 1.09 GB; 8,192: dbt 17.8 s, 1.37 GB).

Only ATTACH takes the option, and it is not kept in the file: a writer that opens the file plainly and
changes anything makes its checkpoint merge every table's row groups back to DuckDB's size (4.4 s on the
1 GB warehouse). So every read-write connection of the pipeline comes from `open_warehouse`, and dbt's
profile attaches the file with the same option (profiles.yml; a test holds the two equal). Readers need
nothing: the file reads as any other DuckDB file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

ROW_GROUP_SIZE = 32_768


def catalog_name(warehouse: Path) -> str:
    """The name DuckDB gives the file's database: `edreflect.duckdb.next` -> `edreflect`."""
    return Path(warehouse).name.lstrip(".").split(".")[0]


def open_warehouse(warehouse: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse file. Read-write: the file attached under its own name with
    `ROW_GROUP_SIZE` and made the default database, so that unqualified names (`raw.x`) and
    `current_database()` are the file's, as with `duckdb.connect(path)`. Closing the connection checkpoints
    the file. DuckDB's errors (the file locked by another program, not a database) pass through."""
    if read_only:
        return duckdb.connect(str(warehouse), read_only=True)
    con = duckdb.connect()
    try:
        path = str(warehouse).replace("'", "''")
        name = '"' + catalog_name(Path(warehouse)).replace('"', '""') + '"'
        con.execute(f"attach '{path}' as {name} (row_group_size {ROW_GROUP_SIZE})")
        con.execute(f"use {name}")
    except BaseException:
        con.close()
        raise
    return con


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """The block's statements in one transaction: committed when it ends, rolled back when it or the commit
    raises (a failing rollback, as on a connection DuckDB has invalidated, does not hide the error)."""
    con.execute("begin transaction")
    try:
        yield con
        con.execute("commit")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")
        raise
