"""Get the data product to a local folder: a local folder is checked and used in place; an SFTP folder is
mirrored into the landing folder, incrementally and atomically.

Why the care:
- The vendor's file names are input, not paths: only the contract's group folders and safe `*.csv` names
  are fetched, symlinks are skipped, and every local path is checked to stay inside the landing folder.
- A file under its final name is always complete (temp name + size check + fsync + rename), so a crash
  or a dropped connection never hands the loader half a file. The fsync and rename happen on a
  background committer thread (see _Committer), so the disk flush overlaps the next downloads.
- Large files are fetched as byte ranges over several connections at once (see _RangedFile): one paramiko
  stream is CPU-bound well below what the link and the server give, and the largest file would otherwise
  be the run's tail.
- Size and modification time are the vendor's only change signals (contract section 1): a file whose
  signals match the last *successful* run, and whose local copy is still there, is not downloaded again.
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
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from pipeline.config import Settings

from . import contract
from .sftp import (
    TRANSIENT_ERRORS,
    Connection,
    Credentials,
    HostKeyPolicy,
    Login,
    SftpError,
    SftpTarget,
    is_sftp_url,
    kind,
    parse_sftp_url,
    scrub,
)

log = logging.getLogger(__name__)

STATE_DIR = ".fetch-state"
PART_MARK = ".part-"
# A name we are willing to create on disk: no separators, no quotes or shell characters, no leading dot.
SAFE_CSV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,200}\.csv")
SAFE_SEGMENT = re.compile(r"[^A-Za-z0-9_.@-]")


class FetchError(RuntimeError):
    """The product could not be fetched or is incomplete; the message names host, path and the fix."""


class _Cancelled(Exception):
    """Raised inside a worker when the run is already failing: not retried (not a transient error)."""


@dataclass
class FetchResult:
    product_dir: Path
    downloaded: int = 0
    skipped: int = 0
    bytes_downloaded: int = 0
    ignored: list[str] = field(default_factory=list)  # remote entries not fetched, and why
    retries: int = 0


@dataclass
class FetchOptions:
    """Knobs with production defaults; tests shorten the back-off and watch progress."""

    workers: int = 3
    attempts: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 30.0
    on_progress: Callable[[str, int, int], None] | None = None  # (relative path, bytes so far, size)
    show_progress: bool | None = None  # None: only when stderr is a terminal
    # Files of at least `range_threshold` bytes are fetched as ranges of about `range_size` bytes by all
    # workers at once. Measured on the 1 GB bench product (2 busy cores): 16 MB ranges were within the
    # noise of 32 MB; paramiko's readv() no faster than seek + our inline prefetch (which keeps errors on
    # the calling thread); 4 workers slower than 3 (the client is CPU-bound, the GIL is shared).
    range_threshold: int = 48 * 2**20
    range_size: int = 32 * 2**20


# ---------------------------------------------------------------------------------------------- layout
def expected_files(group: str) -> dict[str, bool]:
    """File names of a group -> required? (the level-3/4 rubric files are optional)."""
    return {t.file_name: t.name not in contract.OPTIONAL_TABLES for t in contract.tables_in_group(group)}


def check_layout(present: dict[str, set[str]], where: str, fix: str) -> None:
    """Missing optional groups are normal; a missing required group or file is an error naming it."""
    problems = []
    for group in contract.FILE_GROUPS:
        if group not in present:
            if group not in contract.OPTIONAL_GROUPS:
                problems.append(f"required group folder `{group}/` is missing")
            continue
        for name, required in expected_files(group).items():
            if required and name not in present[group]:
                problems.append(f"`{group}/{name}` is missing")
    if problems:
        listed = "\n  - ".join(problems)
        raise FetchError(
            f"the data product at {where} is incomplete:\n  - {listed}\n"
            f"Optional groups (eoy.Classifications, goals, sloTemplates, slos) may be absent as a whole; "
            f"every other file must be there (an empty table is a header-only file). {fix}"
        )


def _local_product(folder: Path) -> FetchResult:
    if not folder.is_dir():
        raise FetchError(
            f"DATA_PRODUCT {folder} is not a folder: give the folder holding the group sub-folders "
            f"(users/, groups/, ...) or an sftp://user@host[:port]/folder URL"
        )
    present = {
        g: {p.name for p in (folder / g).iterdir() if p.is_file()}
        for g in contract.FILE_GROUPS
        if (folder / g).is_dir()
    }
    check_layout(present, str(folder), "Re-export or re-copy the missing files into that folder.")
    return FetchResult(product_dir=folder)


# ---------------------------------------------------------------------------------------------- names
def landing_dir(landing: Path, target: SftpTarget) -> Path:
    """`landing/<host>_<port>/<path...>`: one mirror per server folder, with tame folder names."""
    segments = [SAFE_SEGMENT.sub("_", s) for s in target.path.split("/") if s not in ("", ".", "~")]
    host = SAFE_SEGMENT.sub("_", target.host)
    server = landing / f"{host}_{target.port}"
    return server.joinpath(*segments) if segments else server


def _unsafe_reason(name: str) -> str | None:
    if not name or name in (".", ".."):
        return "a relative path component"
    for bad, why in (("\x00", "a NUL byte"), ("/", "a `/`"), ("\\", "a `\\`"), ("..", "`..`")):
        if bad in name:
            return f"it contains {why}"
    if name.startswith("~"):
        return "it starts with `~`"
    if not SAFE_CSV_NAME.fullmatch(name):
        return "it has characters other than letters, digits, `_`, `.` and `-`"
    return None


def inside(base: Path, candidate: Path) -> Path:
    """`candidate`, resolved, if it stays inside `base`; else a FetchError (the last line of defence)."""
    resolved = candidate.resolve()
    if not resolved.is_relative_to(base.resolve()):
        raise FetchError(f"refusing to write {candidate}: it resolves to {resolved}, outside {base}")
    return resolved


# ---------------------------------------------------------------------------------------------- state
def _state_path(landing: Path, target: SftpTarget) -> Path:
    digest = hashlib.sha256(f"{target.host}:{target.port}:{target.user}:{target.path}".encode()).hexdigest()
    return landing / STATE_DIR / f"{SAFE_SEGMENT.sub('_', target.host)}_{target.port}_{digest[:16]}.json"


def _read_state(path: Path) -> dict[str, dict[str, int]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data.get("files", {})
        return {k: {"size": int(v["size"]), "mtime": int(v["mtime"])} for k, v in files.items()}
    except FileNotFoundError:
        return {}
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("fetch state %s is unreadable: every file will be downloaded again", path)
        return {}


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}{PART_MARK}{uuid.uuid4().hex[:8]}")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be fsynced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _mirror_lock(path: Path, what: str) -> Iterator[None]:
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


# ---------------------------------------------------------------------------------------------- SFTP
class _LocalWriter:
    """Writes into the temp file's descriptor from `offset` on (os.pwrite: several ranges of one file are
    written at once by different threads), with write errors turned into local-disk FetchErrors (see
    _Fetcher._local_io)."""

    def __init__(self, fd: int, offset: int, guard: Callable[[Path], contextlib.AbstractContextManager[None]],
                 path: Path) -> None:
        self.fd, self.offset, self.guard, self.path = fd, offset, guard, path

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        with self.guard(self.path):
            while view:
                n = os.pwrite(self.fd, view, self.offset)
                self.offset += n
                view = view[n:]
        return len(data)


class _RemoteChanged(Exception):
    """A range saw the remote file change (other size or mtime, shorter than listed): the whole file is
    fetched again in one stream. Not a transient error, so the range itself is not retried."""


@dataclass(eq=False)
class _RangedFile:
    """One large file being fetched as byte ranges by several workers, each over its own connection.

    Every range writes at its own offset of one temp file; the worker that finishes the last range checks
    that the remote file did not change meanwhile (same size and mtime as listed, still a regular file)
    and hands the temp file to the committer, which renames it. A range that loses its connection is
    retried on its own (pwrite at the same offsets makes a retry idempotent); a range that sees the file
    change makes the last worker fetch the whole file again in one stream instead. If the run fails, the
    temp file is deleted (_Fetcher._download_all), so no partial file ever gets a final name."""

    file: RemoteFile
    remote: str
    tmp: Path
    final: Path
    ranges: list[tuple[int, int]]
    fd: int = -1
    left: int = 0
    done: int = 0
    changed: bool = False
    handed_over: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class _Commit:
    fd: int  # owned by the committer from now on
    tmp: Path
    final: Path
    relative: str
    size: int
    mtime: int


class _Committer:
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

    def __init__(self, fetcher: _Fetcher) -> None:
        self.fetcher = fetcher
        self.items: queue.Queue[_Commit | int | None] = queue.Queue()
        self.error: BaseException | None = None
        self.folders: set[Path] = set()
        self.thread = threading.Thread(target=self._run, name="sftp-commit", daemon=True)
        self.thread.start()

    def commit(self, item: _Commit) -> None:
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
                    raise _Cancelled("an earlier commit failed")
                self._commit(item)
            except BaseException as e:  # recorded for finish(); stop the other downloads now
                with contextlib.suppress(OSError):
                    os.close(item.fd)
                with contextlib.suppress(FileNotFoundError):
                    item.tmp.unlink()
                if self.error is None:
                    self.error = e
                    self.fetcher._stop.set()

    def _commit(self, c: _Commit) -> None:
        f = self.fetcher
        with f._local_io(c.tmp):
            try:
                local_size = os.fstat(c.fd).st_size
                if local_size != c.size:
                    raise FetchError(f"{c.tmp}: {local_size} bytes written, the server said {c.size}")
                os.utime(c.fd, (c.mtime, c.mtime))
                os.fsync(c.fd)
            finally:
                os.close(c.fd)
        with f._local_io(c.final):
            os.replace(c.tmp, c.final)
        with f._lock:
            self.folders.add(c.final.parent)
            f.result.downloaded += 1
            f.result.bytes_downloaded += c.size
            f.fetched[c.relative] = {"size": c.size, "mtime": c.mtime}

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
            _fsync_dir(folder)


@dataclass(frozen=True)
class RemoteFile:
    group: str
    name: str
    size: int
    mtime: int

    @property
    def relative(self) -> str:
        return f"{self.group}/{self.name}"


class _Fetcher:
    def __init__(self, target: SftpTarget, landing: Path, settings: Settings, options: FetchOptions) -> None:
        self.target = target
        self.options = options
        self.creds = Credentials.from_env(settings.secrets)
        self.policy = HostKeyPolicy.from_env()
        self.secrets = self.creds.values()
        self.landing = landing.resolve()
        with self._local_io(self.landing):
            self.landing.mkdir(parents=True, exist_ok=True)
        self.product_dir = inside(self.landing, landing_dir(self.landing, target))
        self.state_file = _state_path(self.landing, target)
        self.result = FetchResult(product_dir=self.product_dir)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._connections: list[Connection] = []
        self._login: Login | None = None  # prepared by the first connection (the listing), then shared
        self.fetched: dict[str, dict[str, int]] = {}  # what the state file will record
        self._stop = threading.Event()
        self._committer: _Committer  # one per _download_all: fsyncs and renames finished files

    # ---------- connections (one per worker thread)
    def _connect(self) -> Connection:
        try:
            if self._login is None:
                self._login = Login.prepare(self.target, self.creds, self.policy)
            conn = Connection(self._login)
        except SftpError as e:
            raise FetchError(scrub(str(e), self.secrets)) from None
        with self._lock:
            self._connections.append(conn)
        return conn

    def _conn(self) -> Connection:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.transport is None or not conn.transport.is_active():
            if conn is not None:
                conn.close()
            conn = self._connect()
            self._local.conn = conn
        return conn

    def _drop_conn(self) -> None:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def close_all(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()

    def _retrying(self, what: str, action: Callable[[], object]) -> object:
        """Run `action`; on a dropped connection reconnect with exponential back-off, a bounded number of
        times. Permanent errors (host key, credentials, layout) are raised at once."""
        last: BaseException | None = None
        for attempt in range(1, self.options.attempts + 1):
            if self._stop.is_set():
                raise _Cancelled(f"{what}: stopped because another download failed")
            try:
                return action()
            except FetchError:
                raise
            except FileNotFoundError as e:
                # Listed moments ago, gone now: the delivery is changing under us. Reconnecting cannot
                # bring the file back, and loading the rest would mix two deliveries.
                raise FetchError(
                    f"{what}: the server no longer has it ({e.strerror or e}); it was in the listing at the "
                    f"start of this run, so the delivery changed while it was being fetched. Wait until the "
                    f"vendor has finished the delivery, then run again (nothing of this run is loaded)."
                ) from None
            except TRANSIENT_ERRORS as e:
                last = e
                self._drop_conn()
                if attempt == self.options.attempts:
                    break
                delay = min(self.options.backoff_max, self.options.backoff_base * 2 ** (attempt - 1))
                with self._lock:
                    self.result.retries += 1
                log.warning(
                    "%s: %s (%s); reconnecting in %.1f s (attempt %d of %d)",
                    what, type(e).__name__, scrub(str(e), self.secrets)[:200] or "connection lost",
                    delay, attempt + 1, self.options.attempts,
                )
                self._stop.wait(delay)  # a failing run wakes the sleepers at once
        detail = scrub(f"{type(last).__name__}: {last}", self.secrets)[:300]
        raise FetchError(
            f"{what} failed {self.options.attempts} times on {self.target.host}:{self.target.port} "
            f"({detail}). Check that the server is reachable and the folder {self.target.path} is readable, "
            f"then run again."
        ) from None

    # ---------- listing
    def list_remote(self) -> list[RemoteFile]:
        return self._retrying(f"listing {self.target.display}", self._list_once)  # type: ignore[return-value]

    def _list_once(self) -> list[RemoteFile]:
        conn = self._conn()
        base = self.target.path
        try:
            root = conn.lstat(base)
        except FileNotFoundError:
            raise FetchError(
                f"folder {base} does not exist on {self.target.host}:{self.target.port}; check the path in "
                f"DATA_PRODUCT (sftp://user@host[:port]/folder, absolute on the server)"
            ) from None
        if kind(root) != "dir":
            raise FetchError(
                f"{base} on {self.target.host}:{self.target.port} is not a folder ({kind(root)}); check the "
                f"path in DATA_PRODUCT"
            )
        ignored: list[str] = []
        files: list[RemoteFile] = []
        present: dict[str, set[str]] = {}
        for entry in conn.listdir(base):
            name, k = entry.filename, kind(entry)
            if name not in contract.FILE_GROUPS:
                ignored.append(f"{name!r}: not a group folder of the contract")
                continue
            if k != "dir":
                ignored.append(f"{name!r}: a {k}, not a folder (symlinks are never followed)")
                continue
            present[name] = set()
            known = expected_files(name)
            for item in conn.listdir(f"{base.rstrip('/')}/{name}"):
                fname, fk = item.filename, kind(item)
                shown = f"{name}/{fname!r}"
                if fk != "file":
                    ignored.append(f"{shown}: a {fk}, not a regular file (symlinks are never followed)")
                    continue
                reason = _unsafe_reason(fname)
                if reason is not None:
                    ignored.append(f"{shown}: unsafe file name ({reason})")
                    continue
                if fname not in known:
                    if not fname.startswith(f"{name}."):
                        ignored.append(f"{shown}: not a file of the `{name}` group")
                        continue
                    log.warning("%s is not in the contract: downloading it for the drift report", shown)
                files.append(RemoteFile(name, fname, int(item.st_size or 0), int(item.st_mtime or 0)))
                present[name].add(fname)
        for msg in ignored:
            log.warning("skipped on %s: %s", self.target.display, msg)
        self.result.ignored = ignored
        check_layout(
            present,
            self.target.display,
            "Ask the vendor to re-deliver the missing files (or check the folder in DATA_PRODUCT).",
        )
        return files

    # ---------- download one file
    def local_path(self, f: RemoteFile) -> Path:
        return inside(self.product_dir, self.product_dir / f.group / f.name)

    def unchanged(self, f: RemoteFile, state: dict[str, dict[str, int]]) -> bool:
        seen = state.get(f.relative)
        if seen is None or seen["size"] != f.size or seen["mtime"] != f.mtime:
            return False
        try:
            st = self.local_path(f).stat()
        except FileNotFoundError:
            return False
        return st.st_size == f.size

    @contextlib.contextmanager
    def _local_io(self, path: Path) -> Iterator[None]:
        """A failing local disk (full, read-only, permissions) is not a dropped connection: reconnecting
        cannot help, so it stops the run at once with the path and the fix."""
        try:
            yield
        except OSError as e:
            raise FetchError(
                f"cannot write {path}: {e.strerror or e}. Make room in (or fix the permissions of) the "
                f"landing folder {self.landing} (LANDING_DIR), then run again."
            ) from None

    def _remote_path(self, f: RemoteFile) -> str:
        return f"{self.target.path.rstrip('/')}/{f.group}/{f.name}"

    def _final_path(self, f: RemoteFile) -> Path:
        final = self.local_path(f)
        with self._local_io(final.parent):
            final.parent.mkdir(parents=True, exist_ok=True)
        inside(self.product_dir, final.parent)
        return final

    def _not_a_file(self, remote: str, what: str) -> FetchError:
        return FetchError(
            f"{remote} on {self.target.host}:{self.target.port} is a {what}, not a regular "
            f"file (the folder listing said otherwise, or it changed since); symlinks are never "
            f"followed: ask the vendor to deliver regular files, then run again"
        )

    def download(self, f: RemoteFile, on_bytes: Callable[[int], None]) -> bool:
        """One file in one stream, retried as a whole; handed to the committer when complete."""
        final = self._final_path(f)

        def once() -> None:
            conn = self._conn()
            remote = self._remote_path(f)
            attrs = conn.lstat(remote)
            if kind(attrs) != "file":
                raise self._not_a_file(remote, kind(attrs))
            size, mtime = int(attrs.st_size or 0), int(attrs.st_mtime or 0)
            tmp = final.with_name(f".{f.name}{PART_MARK}{uuid.uuid4().hex[:8]}")
            done = 0

            def progress(n: int) -> None:
                nonlocal done
                if self._stop.is_set():
                    raise _Cancelled(f"{f.relative}: stopped because another download failed")
                done += n
                on_bytes(n)
                if self.options.on_progress is not None:
                    self.options.on_progress(f.relative, done, size)

            fd = -1
            try:
                with self._local_io(tmp):
                    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                written = conn.download(remote, size, _LocalWriter(fd, 0, self._local_io, tmp), progress)
                if written != size:
                    raise OSError(f"{remote}: got {written} bytes, the server says {size} (file changing?)")
                self._committer.commit(_Commit(fd, tmp, final, f.relative, size, mtime))
                fd = -1  # the committer's now
            except BaseException:
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
                on_bytes(-done)  # the progress bar gives back what the failed attempt counted
                raise

        self._retrying(f"downloading {f.relative}", once)
        return True

    def _plan_ranges(self, f: RemoteFile) -> _RangedFile:
        final = self._final_path(f)
        n = max(2, -(-f.size // self.options.range_size))
        bounds = [f.size * i // n for i in range(n + 1)]
        return _RangedFile(
            file=f,
            remote=self._remote_path(f),
            tmp=final.with_name(f".{f.name}{PART_MARK}{uuid.uuid4().hex[:8]}"),
            final=final,
            ranges=[(a, b - a) for a, b in zip(bounds, bounds[1:], strict=False)],
            left=n,
        )

    def download_range(
        self, job: _RangedFile, start: int, length: int, on_bytes: Callable[[int], None]
    ) -> bool:
        """One range of a large file, retried on its own; the last range to end finishes the file.
        Returns whether this call completed the file."""
        f = job.file
        with job.lock, self._local_io(job.tmp):
            if job.fd < 0:
                job.fd = os.open(job.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)

        def once() -> None:
            conn = self._conn()
            attrs = conn.lstat(job.remote)
            if kind(attrs) != "file":
                raise self._not_a_file(job.remote, kind(attrs))
            if (int(attrs.st_size or 0), int(attrs.st_mtime or 0)) != (f.size, f.mtime):
                raise _RemoteChanged(job.remote)
            done = 0

            def progress(n: int) -> None:
                nonlocal done
                if self._stop.is_set():
                    raise _Cancelled(f"{f.relative}: stopped because another download failed")
                done += n
                on_bytes(n)
                with job.lock:
                    job.done += n
                    total = job.done
                if self.options.on_progress is not None:
                    self.options.on_progress(f.relative, total, f.size)

            try:
                writer = _LocalWriter(job.fd, start, self._local_io, job.tmp)
                written = conn.download_range(job.remote, start, length, writer, progress)
            except BaseException:
                on_bytes(-done)
                with job.lock:
                    job.done -= done
                raise
            if written != length:  # the file ended early: it shrank
                raise _RemoteChanged(job.remote)

        try:
            self._retrying(f"downloading {f.relative} (bytes {start}-{start + length})", once)
        except _RemoteChanged:
            job.changed = True
        with job.lock:
            job.left -= 1
            last = job.left == 0
        if not last:
            self._committer.sync(job.fd)  # flush this range now, not all of the file at the end
            return False
        return self._finish_ranged(job, on_bytes)

    def _finish_ranged(self, job: _RangedFile, on_bytes: Callable[[int], None]) -> bool:
        f = job.file

        def check() -> bool:
            attrs = self._conn().lstat(job.remote)
            return kind(attrs) == "file" and (int(attrs.st_size or 0), int(attrs.st_mtime or 0)) == (
                f.size, f.mtime,
            )

        if not job.changed and self._retrying(f"checking {f.relative}", check):
            job.handed_over = True
            self._committer.commit(_Commit(job.fd, job.tmp, job.final, f.relative, f.size, f.mtime))
            return True
        log.info("%s changed on the server while it was fetched in ranges: fetching it again", f.relative)
        with contextlib.suppress(OSError):
            os.close(job.fd)
        job.handed_over = True  # nothing left for the clean-up: the temp file is deleted here
        with contextlib.suppress(FileNotFoundError):
            job.tmp.unlink()
        on_bytes(-job.done)
        return self.download(f, on_bytes)

    # ---------- the whole fetch
    def run(self) -> FetchResult:
        with _mirror_lock(self.state_file.with_suffix(".lock"), self.target.display):
            return self._run_locked()

    def _run_locked(self) -> FetchResult:
        try:
            files = self.list_remote()
            with self._local_io(self.product_dir):
                self.product_dir.mkdir(parents=True, exist_ok=True)
                self._remove_leftovers()
            state = _read_state(self.state_file)
            todo = [f for f in files if not self.unchanged(f, state)]
            self.fetched = {
                f.relative: {"size": f.size, "mtime": f.mtime} for f in files if f not in todo
            }
            self.result.skipped = len(files) - len(todo)
            self._download_all(todo)
            state_text = json.dumps(
                {"source": self.target.display, "completed_at": time.time(), "files": self.fetched},
                indent=1,
                sort_keys=True,
            )
            with self._local_io(self.state_file):
                self._prune({f.relative for f in files})
                _write_atomic(self.state_file, state_text)
        finally:
            self.close_all()
        log.info(
            "fetched %s: %d downloaded (%d bytes), %d unchanged, %d ignored, %d retries",
            self.target.display, self.result.downloaded, self.result.bytes_downloaded, self.result.skipped,
            len(self.result.ignored), self.result.retries,
        )
        return self.result

    def _download_all(self, todo: list[RemoteFile]) -> None:
        if not todo:
            return
        show = self.options.show_progress
        console = Console(stderr=True)
        progress = Progress(
            TextColumn("[bold]fetch"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[files]}"),
            console=console,
            disable=not (console.is_terminal if show is None else show),
            transient=False,
        )
        # Large files first, so one big file does not start last and leave the other workers idle; files
        # above the threshold become ranges that every worker fetches at once.
        todo = sorted(todo, key=lambda f: f.size, reverse=True)
        workers = max(1, self.options.workers)
        tasks: list[tuple[Callable[..., bool], tuple[object, ...]]] = []
        jobs: list[_RangedFile] = []
        for f in todo:
            if workers > 1 and f.size >= max(self.options.range_threshold, 2):
                job = self._plan_ranges(f)
                jobs.append(job)
                tasks.extend((self.download_range, (job, a, n)) for a, n in job.ranges)
            else:
                tasks.append((self.download, (f,)))
        total_files = len(todo)
        self._committer = _Committer(self)
        ok = False
        try:
            with progress:
                task = progress.add_task(
                    "fetch", total=sum(f.size for f in todo), files=f"0/{total_files} files"
                )
                finished = 0

                def advance(n: int) -> None:
                    progress.update(task, advance=n)

                with ThreadPoolExecutor(
                    max_workers=min(workers, len(tasks)), thread_name_prefix="sftp-fetch"
                ) as pool:
                    futures = [pool.submit(fn, *args, advance) for fn, args in tasks]
                    try:
                        for fut in as_completed(futures):
                            if fut.result():
                                finished += 1
                                progress.update(task, files=f"{finished}/{total_files} files")
                    except BaseException:
                        # Running downloads stop at their next chunk; queued ones never start.
                        self._stop.set()
                        for other in futures:
                            other.cancel()
                        raise
            ok = True
        except BaseException as e:
            commit_error = self._committer.stop()  # waits for the queued commits: none is left behind
            if isinstance(e, _Cancelled) and commit_error is not None:
                raise commit_error from None  # the committer stopped the run: its error is the cause
            raise
        finally:
            try:
                if ok:
                    self._committer.finish()
            finally:
                for job in jobs:  # unfinished ranged files (a failed run): their temp files go
                    if not job.handed_over:
                        with contextlib.suppress(OSError):
                            os.close(job.fd)
                        with contextlib.suppress(FileNotFoundError):
                            job.tmp.unlink()

    def _remove_leftovers(self) -> None:
        """Temp files of an interrupted run are never complete: delete them."""
        for p in self.product_dir.glob(f"*/.*{PART_MARK}*"):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    def _prune(self, remote: set[str]) -> None:
        """A re-delivery that no longer has a file (an optional group dropped) must not leave our old copy
        for the loader: delete local CSVs the server no longer lists."""
        for p in self.product_dir.glob("*/*.csv"):
            rel = f"{p.parent.name}/{p.name}"
            if rel not in remote and p.parent.name in contract.FILE_GROUPS and not p.is_symlink():
                log.info("%s is no longer on the server: removing the local copy", rel)
                p.unlink()
        for g in contract.FILE_GROUPS:
            d = self.product_dir / g
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()


def fetch(source: str, landing: Path, settings: Settings, options: FetchOptions | None = None) -> FetchResult:
    """The local folder to load, from a folder path or an `sftp://user@host[:port]/folder` URL."""
    options = options or FetchOptions()
    if not is_sftp_url(source):
        return _local_product(Path(source).expanduser().resolve())
    try:
        target = parse_sftp_url(source)
    except SftpError as e:
        raise FetchError(str(e)) from None
    return _Fetcher(target, Path(landing), settings, options).run()
