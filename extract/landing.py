"""The local side of an SFTP fetch: the landing folder's names, the fetch state, one fetch per mirror at a
time, and downloaded files made durable before they get their final names (see `extract.fetch`).

Why apart from the transfer: what lands on the local disk, and when a file counts as complete, is what the
loader trusts; this module holds those rules, `extract.fetch` the connections, retries and progress.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import queue
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .sftp import SftpTarget

log = logging.getLogger("extract.fetch")  # the fetch's one logger, whichever module writes

STATE_DIR = ".fetch-state"
PART_MARK = ".part-"
SAFE_SEGMENT = re.compile(r"[^A-Za-z0-9_.@-]")


class FetchError(RuntimeError):
    """The product could not be fetched or is incomplete; the message names host, path and the fix."""


class Cancelled(Exception):
    """Raised inside a worker when the run is already failing: not retried (not a transient error)."""


# ---------------------------------------------------------------------------------------------- names
def landing_dir(landing: Path, target: SftpTarget) -> Path:
    """`landing/<host>_<port>/<path...>`: one mirror per server folder, with tame folder names."""
    segments = [SAFE_SEGMENT.sub("_", s) for s in target.path.split("/") if s not in ("", ".", "~")]
    host = SAFE_SEGMENT.sub("_", target.host)
    server = landing / f"{host}_{target.port}"
    return server.joinpath(*segments) if segments else server


def inside(base: Path, candidate: Path) -> Path:
    """`candidate`, resolved, if it stays inside `base`; else a FetchError (the last line of defence)."""
    resolved = candidate.resolve()
    if not resolved.is_relative_to(base.resolve()):
        raise FetchError(f"refusing to write {candidate}: it resolves to {resolved}, outside {base}")
    return resolved


# ---------------------------------------------------------------------------------------------- state
def state_path(landing: Path, target: SftpTarget) -> Path:
    digest = hashlib.sha256(f"{target.host}:{target.port}:{target.user}:{target.path}".encode()).hexdigest()
    return landing / STATE_DIR / f"{SAFE_SEGMENT.sub('_', target.host)}_{target.port}_{digest[:16]}.json"


def read_state(path: Path) -> dict[str, dict[str, int]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data.get("files", {})
        return {k: {"size": int(v["size"]), "mtime": int(v["mtime"])} for k, v in files.items()}
    except FileNotFoundError:
        return {}
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("fetch state %s is unreadable: every file will be downloaded again", path)
        return {}


def part_path(path: Path) -> Path:
    """A new hidden partial file beside `path` (`.<name>.part-<random>`), renamed onto it when whole."""
    return path.with_name(f".{path.name}{PART_MARK}{uuid.uuid4().hex[:8]}")


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = part_path(path)
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be fsynced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def mirror_lock(path: Path, what: str) -> Iterator[None]:
    """One fetch per mirror at a time: a second run would delete the first one's temp files and both
    would rewrite the same state. Refused, not queued (like pipeline.lock.run_lock); the kernel drops the
    lock when the holder dies, so a killed run leaves nothing stale."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise FetchError(f"cannot create {path}: {e.strerror or e} (check LANDING_DIR)") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = path.read_text(encoding="ascii", errors="replace").strip()
            raise FetchError(
                f"another run is already fetching {what} into {path.parent.parent} "
                f"(process {holder or '?'} holds {path}); wait for it to finish and run again"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------------- durable files
class LocalWriter:
    """Writes into the temp file's descriptor from `offset` on (os.pwrite: several ranges of one file are
    written at once by different threads), with write errors turned into local-disk FetchErrors (see
    extract.transfer.LocalDisk.io)."""

    def __init__(
        self,
        fd: int,
        offset: int,
        guard: Callable[[Path], contextlib.AbstractContextManager[None]],
        path: Path,
    ) -> None:
        self.fd, self.offset, self.guard, self.path = fd, offset, guard, path

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        with self.guard(self.path):
            while view:
                n = os.pwrite(self.fd, view, self.offset)
                self.offset += n
                view = view[n:]
        return len(data)


@dataclass(frozen=True)
class Commit:
    fd: int  # owned by the committer from now on
    tmp: Path
    final: Path
    relative: str
    size: int
    mtime: int


class Committer:
    """Makes downloaded temp files durable and gives them their final names, on a background thread.

    Why: fsyncing on the download worker costs the worker the whole disk flush (about 2 s per GB here)
    before it can start its next file; here the flush of one file overlaps the download of the next ones.
    The guarantees stay those of a serial fsync: the data (and its mtime) are fsynced *before* the rename,
    so a final name never points at data that a crash could lose; the size is checked against the
    server's; the folders holding the renamed files are fsynced once each at the end, before the caller
    writes the state file, which alone marks the run successful (a crash before it means the files are
    compared and fetched again next time). `sync(fd)` flushes a large file's finished ranges early, so
    the flush at the end of the run is short.

    Why not the other ways out: one parallel fsync pass over every file at the end would let a file get
    its final name before its data is on disk (a power cut could leave a final name with the right size
    and lost data, and a re-run skips a file whose size and mtime match) and still put the whole flush on
    the run's tail; no fsync at all has the same hole without the tail. Measured on the 1 GB bench
    product: the committer has nothing left to do when the last download ends (finish() < 0.01 s).
    """

    def __init__(
        self,
        local_io: Callable[[Path], contextlib.AbstractContextManager[None]],
        stop: threading.Event,
        committed: Callable[[Commit], None],
    ) -> None:
        self.local_io = local_io  # turns a local disk error into a FetchError naming the path
        self.stop_run = stop  # set on the first failed commit: the downloads stop
        self.committed = committed  # told of every file that got its final name
        self.items: queue.Queue[Commit | int | None] = queue.Queue()
        self.error: BaseException | None = None
        self.folders: set[Path] = set()
        self.thread = threading.Thread(target=self._run, name="sftp-commit", daemon=True)
        self.thread.start()

    def commit(self, item: Commit) -> None:
        self.items.put(item)

    def sync(self, fd: int) -> None:
        """Flush what is written so far of a file still being downloaded (on a duplicate of `fd`)."""
        self.items.put(os.dup(fd))

    def _run(self) -> None:
        while True:
            item = self.items.get()
            if item is None:
                return
            if isinstance(item, int):
                with contextlib.suppress(OSError):  # an early flush only; the commit fsyncs again
                    try:
                        if self.error is None:
                            os.fdatasync(item)
                    finally:
                        os.close(item)
                continue
            try:
                if self.error is not None:
                    raise Cancelled("an earlier commit failed")
                self._commit(item)
            except BaseException as e:  # recorded for finish(); stop the other downloads now
                with contextlib.suppress(OSError):
                    os.close(item.fd)
                with contextlib.suppress(FileNotFoundError):
                    item.tmp.unlink()
                if self.error is None:
                    self.error = e
                    self.stop_run.set()

    def _commit(self, c: Commit) -> None:
        with self.local_io(c.tmp):
            try:
                local_size = os.fstat(c.fd).st_size
                if local_size != c.size:
                    raise FetchError(f"{c.tmp}: {local_size} bytes written, the server said {c.size}")
                os.utime(c.fd, (c.mtime, c.mtime))
                os.fsync(c.fd)
            finally:
                os.close(c.fd)
        with self.local_io(c.final):
            os.replace(c.tmp, c.final)
        self.folders.add(c.final.parent)  # this thread's alone until finish() joined it
        self.committed(c)

    def stop(self) -> BaseException | None:
        """The run failed: wait for the commits already queued (complete, verified files may still get
        their final names; the state file will not vouch for them) and return the committer's error."""
        if self.thread.is_alive():
            self.items.put(None)
            self.thread.join()
        return self.error

    def finish(self) -> None:
        """Wait for every queued commit; raise the first failure; fsync the folders of the renames."""
        if self.stop() is not None:
            raise self.error  # type: ignore[misc]
        if not self.items.empty():  # the thread died outside its error handling: never call that a success
            raise FetchError("internal error: the commit thread stopped with files still queued; run again")
        for folder in sorted(self.folders):
            fsync_dir(folder)
