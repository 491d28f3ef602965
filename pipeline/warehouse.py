"""All or nothing: a run builds beside the live warehouse and swaps it in only when everything passed.

A build lands raw, runs dbt, renders the Ed-Fi export and records state in a new DuckDB file next to the
live one (`<warehouse>.next`), then publishes with two renames: the Ed-Fi output folder, then the file
(`os.replace` is atomic on one file system). A run that fails anywhere deletes its copy: the live
warehouse, the output folder and the state are exactly as they were. Readers never see a half-built
warehouse and never block a build: they hold the old file (its inode stays valid until they close it) and
the build never opens the live file for writing.

SQL consumers get a file of their own: each publish also swaps in a read-only copy of the new warehouse,
`<name>.snapshot.duckdb` beside it (`snapshot_path`; `WAREHOUSE_SNAPSHOT=0` keeps none). The pipeline never
opens it, so a client that holds it open, even for writing, never blocks a build, `make send` or
`make dbt`, and always sees the last published run whole. The copy is made before anything is swapped in:
a run that cannot write it (a full disk) fails and publishes nothing.

What outlives a run is carried into the new file: the Ed-Fi delivery state (`edfi_state`), the validation
history (`quality`) and the raw manifests (`raw._loads`, `raw._rejects`, `raw._drift`, `raw._load_failures`).
Everything else is rebuilt from the delivery, so stale objects never linger. `send` and `resync` change
only the state: they work on a full copy of the live file.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import mmap
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from extract.warehouse import open_warehouse

log = logging.getLogger(__name__)

CARRIED_SCHEMAS = ("edfi_state", "quality")
CARRIED_RAW = ("_loads", "_rejects", "_drift", "_load_failures")


class WarehouseError(RuntimeError):
    """The live warehouse cannot be read or replaced; the message says which file and what to do."""


@dataclass
class Workspace:
    """A run's private copy of the warehouse and, when it renders one, its Ed-Fi output folder."""

    live: Path
    work: Path
    output: Path | None = None
    output_staging: Path | None = None
    snapshot: Path | None = None  # the consumers' read-only copy, None when WAREHOUSE_SNAPSHOT=0

    def publish(self) -> None:
        """Swap the output folder and then the warehouse in; undo the folder if the file cannot follow;
        then the consumers' snapshot (written first, so a failure to write it publishes nothing)."""
        _checkpoint(self.work)
        check_no_writer(self.live)
        snapshot_next = self._write_snapshot()
        backup = None
        if self.output is not None and self.output_staging is not None and self.output_staging.exists():
            self.output.parent.mkdir(parents=True, exist_ok=True)
            if self.output.exists():
                backup = self.output.with_name(self.output.name + ".old")
                shutil.rmtree(backup, ignore_errors=True)
                self.output.rename(backup)
            self.output_staging.rename(self.output)
        # A write-ahead log beside the live file belongs to the old file (a writer crashed): replayed onto
        # the new file it would corrupt it, so it goes first.
        _remove(self.live.with_name(self.live.name + ".wal"))
        try:
            os.replace(self.work, self.live)
        except OSError as exc:
            if self.output_staging is not None and self.output is not None and self.output.exists():
                self.output.rename(self.output_staging)
                if backup is not None:
                    backup.rename(self.output)
            raise WarehouseError(
                f"could not replace the warehouse {self.live}: {exc.strerror or exc}"
            ) from None
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
        if snapshot_next is None or self.snapshot is None:
            # none kept: a stale one must not go on looking current (its open readers keep their copy)
            _remove(snapshot_path(self.live))
            return
        _remove(self.snapshot.with_name(self.snapshot.name + ".wal"))  # a writer's log of the old copy
        try:
            os.replace(snapshot_next, self.snapshot)
        except OSError as exc:  # the run is published; only the consumers' copy is behind: say so
            _remove(snapshot_next)
            _remove(self.snapshot)
            log.warning("could not replace the read-only snapshot %s: %s", self.snapshot, exc.strerror or exc)

    def _write_snapshot(self) -> Path | None:
        """The new warehouse copied beside the live file, read-only, ready to be renamed in."""
        if self.snapshot is None:
            return None
        target = _next(self.snapshot)
        try:
            _remove(target)
            copy_file(self.work, target)
            target.chmod(0o444)
        except OSError as exc:
            with contextlib.suppress(OSError):
                target.unlink()
            raise WarehouseError(
                f"could not write the read-only snapshot {target}: {exc.strerror or exc}; nothing was "
                "published. Free some space, or set WAREHOUSE_SNAPSHOT=0 to keep no snapshot."
            ) from None
        return target

    def discard(self) -> None:
        _remove(self.work)
        _remove(self.work.with_name(self.work.name + ".wal"))
        if self.snapshot is not None:
            _remove(_next(self.snapshot))
        if self.output_staging is not None:
            shutil.rmtree(self.output_staging, ignore_errors=True)


_COPY_CHUNK = 8 << 20  # bytes per read and write
_DIRECT_ALIGN = 4096  # what O_DIRECT asks of a write's length and offset (the largest logical block size)


def copy_file(source: Path, target: Path) -> None:
    """`shutil.copyfile`, writing the copy around the page cache (O_DIRECT) where the file system allows it.

    A warehouse copy is as large as the warehouse (1.6 GB at 1 GB of CSV), written at the end of a build
    that has just written its own: on this project's 2-core VM a buffered copy took 6-11 s, almost all of
    it the kernel's (fresh page cache pages), against 1.2-1.5 s written directly (`dd bs=8M`, with and
    without `oflag=direct`, and a 1 GB build's snapshot, measured). The source is read as usual (it is in
    the page cache: the build just wrote it). A file system that refuses O_DIRECT (tmpfs, some network
    ones) gets the buffered copy; a tail that is not a whole block is written buffered."""
    direct_flag = getattr(os, "O_DIRECT", 0)
    if not direct_flag:
        shutil.copyfile(source, target)
        return
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | direct_flag, 0o644)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
        shutil.copyfile(source, target)
        return
    try:
        # the buffer is anonymous memory, page-aligned as O_DIRECT needs
        with (
            open(source, "rb", buffering=0) as src,
            mmap.mmap(-1, _COPY_CHUNK) as buffer,
            memoryview(buffer) as view,
        ):
            direct = True
            while n := src.readinto(view):
                if direct and n % _DIRECT_ALIGN:
                    direct = _buffered(fd)
                done = 0
                while done < n:
                    try:
                        done += os.write(fd, view[done:n])
                    except OSError as exc:
                        if not (direct and exc.errno == errno.EINVAL):
                            raise
                        direct = _buffered(fd)  # the device wants another alignment: write it buffered
    finally:
        os.close(fd)


def _buffered(fd: int) -> bool:
    import fcntl

    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_DIRECT)
    return False


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _checkpoint(path: Path) -> None:
    """Fold the write-ahead log into the file, so the renamed file is whole on its own."""
    con = open_warehouse(path)
    try:
        con.execute("checkpoint")
    finally:
        con.close()


def check_no_writer(live: Path) -> None:
    """Refuse while another program writes to the live file: its changes would be lost with the old file.

    Readers are fine (they keep the old file); a DuckDB writer holds an exclusive lock that makes a
    read-only open fail, which is the probe.
    """
    if not live.is_file():
        return
    try:
        duckdb.connect(str(live), read_only=True).close()
    except duckdb.Error as exc:
        from .lock import describe_open_elsewhere

        message = describe_open_elsewhere(str(exc), live)
        raise WarehouseError(message or f"cannot open the warehouse {live}: {exc}") from None


def work_path(live: Path) -> Path:
    return _next(live)


def snapshot_path(live: Path) -> Path:
    """Where SQL consumers read: `warehouse/edreflect.duckdb` -> `warehouse/edreflect.snapshot.duckdb`."""
    return live.with_name(f"{live.stem}.snapshot{live.suffix or '.duckdb'}")


def _next(path: Path) -> Path:
    return path.with_name(path.name + ".next")


def _carry(live: Path, work: Path) -> None:
    """Copy what outlives a run from the live warehouse into the new file."""
    con = open_warehouse(work)
    try:
        try:
            con.execute(f"attach '{_sql_path(live)}' as live (read_only)")
        except duckdb.Error as exc:
            raise WarehouseError(
                f"cannot read the live warehouse {live} to carry its Ed-Fi state and history over: {exc}. "
                "If another program holds it open for writing, close that program and run again."
            ) from None
        tables = con.execute(
            """select schema_name, table_name from duckdb_tables()
               where database_name = 'live'
                 and (schema_name in (select unnest(?))
                      or (schema_name = 'raw' and table_name in (select unnest(?))))
               order by all""",
            [list(CARRIED_SCHEMAS), list(CARRIED_RAW)],
        ).fetchall()
        from edfi.plan import ensure_state

        ensure_state(con)  # the state tables with their keys; carried rows go into them by column name
        have = {
            tuple(r)
            for r in con.execute(
                "select schema_name, table_name from duckdb_tables() where database_name = current_database()"
            ).fetchall()
        }
        for schema, table in tables:
            source = f'live."{schema}"."{table}"'
            con.execute(f'create schema if not exists "{schema}"')
            if (schema, table) in have:
                con.execute(f'insert into "{schema}"."{table}" by name select * from {source}')
            else:
                con.execute(f'create table "{schema}"."{table}" as select * from {source}')
        con.execute("detach live")
    finally:
        con.close()


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


@contextlib.contextmanager
def workspace(
    live: Path, *, copy_all: bool = False, output: Path | None = None, snapshot: bool = True
) -> Iterator[Workspace]:
    """A private copy of the warehouse for one run (the caller holds the run lock and calls `publish`).

    `copy_all` copies the whole live file (for runs that change only part of it); otherwise the copy
    starts empty with the carried tables. `snapshot` (WAREHOUSE_SNAPSHOT) publishes the consumers'
    read-only copy too. Whatever is not published is removed on the way out.
    """
    live = Path(live)
    if live.exists() and not live.is_file():
        raise WarehouseError(f"WAREHOUSE={live} is not a file: point WAREHOUSE at a .duckdb file path")
    check_no_writer(live)
    ws = Workspace(
        live=live, work=work_path(live), output=output, snapshot=snapshot_path(live) if snapshot else None
    )
    ws.discard()  # what a killed run left behind
    try:
        if live.exists() and copy_all:
            copy_file(live, ws.work)
            wal = live.with_name(live.name + ".wal")  # committed work a writer has not checkpointed yet
            if wal.exists():
                shutil.copyfile(wal, ws.work.with_name(ws.work.name + ".wal"))
        elif live.exists():
            _carry(live, ws.work)
        yield ws
    finally:
        if ws.work.exists():
            ws.discard()
