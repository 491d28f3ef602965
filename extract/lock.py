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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class RunLockedError(RuntimeError):
    """Another run holds the warehouse; the message says which process and what to do."""


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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
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
