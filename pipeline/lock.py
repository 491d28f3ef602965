"""One pipeline run at a time per warehouse.

Two runs landing into the same DuckDB file would each replace the other's raw tables half-way, so a second
run must be refused, not queued. We use an OS advisory lock (`fcntl.flock`) on `<warehouse>.lock` rather
than a pid file: the kernel drops the lock when the holding process dies, so a killed run never leaves a
stale lock behind, and nobody has to guess whether a pid is still alive.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class RunLockedError(RuntimeError):
    """Another run holds the warehouse; the message says which process and what to do."""


class WarehouseFolderError(RuntimeError):
    """The warehouse folder cannot hold the run lock (read-only, a file in the way, ...): says how to fix."""


class WarehouseBusyError(RuntimeError):
    """Another program (not a pipeline run) has the DuckDB warehouse open; says which and what to do."""


_WHY = {
    errno.EROFS: "is on a read-only file system",
    errno.EACCES: "is not writable by this user",
    errno.EPERM: "does not allow new files",
    errno.ENOTDIR: "cannot be a folder: part of its path is a file",
    errno.EEXIST: "is a file, not a folder",
    errno.ENOSPC: "is on a full disk",
    errno.EDQUOT: "is over its disk quota",
    errno.ENOENT: "does not exist and cannot be created",
}


def _folder_error(path: Path, exc: OSError) -> WarehouseFolderError:
    folder = path.parent
    why = _WHY.get(exc.errno or 0, f"refuses the lock file ({exc.strerror or exc})")
    if exc.errno == errno.ENOENT and folder.is_dir():  # e.g. /proc: the folder is there, new files are not
        why = f"refuses new files ({exc.strerror})"
    return WarehouseFolderError(
        f"cannot create the run lock {path}: the warehouse folder {folder} {why}. Every run creates "
        f"`<warehouse>.lock` beside the DuckDB file, so the folder must be writable: set WAREHOUSE to a file "
        f"in a writable folder (e.g. WAREHOUSE=$HOME/edreflect/edreflect.duckdb) or make {folder} writable."
    )


def lock_path(warehouse: Path) -> Path:
    """`warehouse/edreflect.duckdb` -> `warehouse/edreflect.duckdb.lock`."""
    return warehouse.with_name(warehouse.name + ".lock")


def _holder(path: Path) -> str:
    """The pid the holder wrote into the lock file (best effort, for the message only)."""
    try:
        pid = path.read_text(encoding="ascii").strip()
    except OSError:
        return "another process"
    return f"process {pid}" if pid.isdigit() else "another process"


@contextmanager
def run_lock(warehouse: Path) -> Iterator[Path]:
    """Hold the exclusive, non-blocking run lock of `warehouse` for the duration of the block.

    The lock works between processes and between threads of one process (each call opens its own file
    description, and flock conflicts between descriptions).
    """
    path = lock_path(Path(warehouse))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise _folder_error(path, exc) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            raise RunLockedError(
                f"another edreflect-edfi run is already using the warehouse {warehouse} "
                f"({_holder(path)} holds the lock {path}). Wait for it to finish and run again; "
                "the lock is released automatically when that process ends."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        try:
            yield path
        finally:
            # Leave the file in place (deleting it would race with a waiting opener); drop the pid.
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


_DUCKDB_CONFLICT = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")
_DUCKDB_FILE = re.compile(r'Could not set lock on file "(?P<file>[^"]*)"')


def describe_open_elsewhere(duckdb_message: str, warehouse: Path | None = None) -> str | None:
    """A clear message for DuckDB's "Could not set lock on file" error (also when wrapped in another
    error's text, as dbt does), or None for any other error."""
    f = _DUCKDB_FILE.search(duckdb_message)
    if f is None:
        return None
    m = _DUCKDB_CONFLICT.search(duckdb_message)
    holder = f"process {m['pid']} ({m['program']})" if m else "another program"
    stop = f"or stop process {m['pid']}" if m else "or stop that program"
    return (
        f"the warehouse {warehouse or f['file']} is open in {holder}, e.g. a DuckDB shell, a notebook or a "
        f"BI tool. DuckDB lets only one program write to it, and nothing else may have it open while a run "
        f"writes: close that connection ({stop}) and run again."
    )


def check_not_open_elsewhere(warehouse: Path) -> None:
    """Raise `WarehouseBusyError` if another program has the DuckDB file open (even read-only).

    Call it while holding the run lock, before the first stage that writes: without it, dbt finds out only
    after parsing the project and prints DuckDB's error wrapped in hundreds of lines of traceback. A missing
    warehouse is fine (the run creates it). Other DuckDB errors (not a database, another version) are left
    to the stage that opens it for real.
    """
    warehouse = Path(warehouse)
    if not warehouse.is_file():
        return
    import duckdb

    from extract.warehouse import open_warehouse

    try:
        open_warehouse(warehouse).close()
    except duckdb.Error as exc:
        message = describe_open_elsewhere(str(exc), warehouse)
        if message is not None:
            raise WarehouseBusyError(message) from None
