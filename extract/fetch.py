"""Get the data product to a local folder: a local folder is checked and used in place; an SFTP folder is
mirrored into the landing folder, incrementally and atomically.

Why the care:
- The vendor's file names are input, not paths: only the contract's group folders and safe `*.csv` names
  are fetched, symlinks are skipped, and every local path is checked to stay inside the landing folder.
- A file under its final name is always complete (temp name + size check + fsync + rename), so a crash
  or a dropped connection never hands the loader half a file. The fsync and rename happen on a
  background committer thread (see Committer), so the disk flush overlaps the next downloads.
- Large files are fetched as byte ranges over several connections at once (see _RangedFile): one paramiko
  stream is CPU-bound well below what the link and the server give, and the largest file would otherwise
  be the run's tail.
- Size and modification time are the vendor's only change signals (contract section 1): a file whose
  signals match the last *successful* run, and whose local copy is still there, is not downloaded again.

This module plans and runs the transfer (listing, connections, retries, ranges, progress); the landing
folder's side (names, the state file, the mirror lock, durable commits) is `extract.landing`. The settings
it reads are named by `FetchSettings`, so `extract` never imports the pipeline.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from . import contract
from .landing import (
    PART_MARK,
    Cancelled,
    Commit,
    Committer,
    FetchError,
    LocalWriter,
    inside,
    landing_dir,
    mirror_lock,
    read_state,
    state_path,
    write_atomic,
)
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

# A name we are willing to create on disk: no separators, no quotes or shell characters, no leading dot.
SAFE_CSV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,200}\.csv")

__all__ = ["FetchError", "FetchOptions", "FetchResult", "FetchSettings", "check_layout", "fetch", "inside"]


class FetchSettings(Protocol):
    """What a fetch reads from the run's settings (`pipeline.config.Settings` has it): the SFTP secrets
    (SFTP_PASSWORD, SFTP_KEY_PASSPHRASE), read from the environment by the pipeline only."""

    @property
    def secrets(self) -> Mapping[str, str]: ...


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


# ---------------------------------------------------------------------------------------------- SFTP
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
class RemoteFile:
    group: str
    name: str
    size: int
    mtime: int

    @property
    def relative(self) -> str:
        return f"{self.group}/{self.name}"


class _Fetcher:
    def __init__(
        self, target: SftpTarget, landing: Path, settings: FetchSettings, options: FetchOptions
    ) -> None:
        self.target = target
        self.options = options
        self.creds = Credentials.from_env(settings.secrets)
        self.policy = HostKeyPolicy.from_env()
        self.secrets = self.creds.values()
        self.landing = landing.resolve()
        with self._local_io(self.landing):
            self.landing.mkdir(parents=True, exist_ok=True)
        self.product_dir = inside(self.landing, landing_dir(self.landing, target))
        self.state_file = state_path(self.landing, target)
        self.result = FetchResult(product_dir=self.product_dir)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._connections: list[Connection] = []
        self._login: Login | None = None  # prepared by the first connection (the listing), then shared
        self.fetched: dict[str, dict[str, int]] = {}  # what the state file will record
        self._stop = threading.Event()
        self._committer: Committer  # one per _download_all: fsyncs and renames finished files

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
                raise Cancelled(f"{what}: stopped because another download failed")
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
                    what,
                    type(e).__name__,
                    scrub(str(e), self.secrets)[:200] or "connection lost",
                    delay,
                    attempt + 1,
                    self.options.attempts,
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
                    raise Cancelled(f"{f.relative}: stopped because another download failed")
                done += n
                on_bytes(n)
                if self.options.on_progress is not None:
                    self.options.on_progress(f.relative, done, size)

            fd = -1
            try:
                with self._local_io(tmp):
                    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                written = conn.download(remote, size, LocalWriter(fd, 0, self._local_io, tmp), progress)
                if written != size:
                    raise OSError(f"{remote}: got {written} bytes, the server says {size} (file changing?)")
                self._committer.commit(Commit(fd, tmp, final, f.relative, size, mtime))
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
                    raise Cancelled(f"{f.relative}: stopped because another download failed")
                done += n
                on_bytes(n)
                with job.lock:
                    job.done += n
                    total = job.done
                if self.options.on_progress is not None:
                    self.options.on_progress(f.relative, total, f.size)

            try:
                writer = LocalWriter(job.fd, start, self._local_io, job.tmp)
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
                f.size,
                f.mtime,
            )

        if not job.changed and self._retrying(f"checking {f.relative}", check):
            job.handed_over = True
            self._committer.commit(Commit(job.fd, job.tmp, job.final, f.relative, f.size, f.mtime))
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
        with mirror_lock(self.state_file.with_suffix(".lock"), self.target.display):
            return self._run_locked()

    def _run_locked(self) -> FetchResult:
        try:
            files = self.list_remote()
            with self._local_io(self.product_dir):
                self.product_dir.mkdir(parents=True, exist_ok=True)
                self._remove_leftovers()
            state = read_state(self.state_file)
            todo = [f for f in files if not self.unchanged(f, state)]
            self.fetched = {f.relative: {"size": f.size, "mtime": f.mtime} for f in files if f not in todo}
            self.result.skipped = len(files) - len(todo)
            self._download_all(todo)
            state_text = json.dumps(
                {"source": self.target.display, "completed_at": time.time(), "files": self.fetched},
                indent=1,
                sort_keys=True,
            )
            with self._local_io(self.state_file):
                self._prune({f.relative for f in files})
                write_atomic(self.state_file, state_text)
        finally:
            self.close_all()
        log.info(
            "fetched %s: %d downloaded (%d bytes), %d unchanged, %d ignored, %d retries",
            self.target.display,
            self.result.downloaded,
            self.result.bytes_downloaded,
            self.result.skipped,
            len(self.result.ignored),
            self.result.retries,
        )
        return self.result

    def _download_all(self, todo: list[RemoteFile]) -> None:
        """Download `todo` on the workers, large files first; every file committed, or none left half."""
        if not todo:
            return
        progress = self._progress_bar()
        # Large files first, so one big file does not start last and leave the other workers idle; files
        # above the threshold become ranges that every worker fetches at once.
        todo = sorted(todo, key=lambda f: f.size, reverse=True)
        workers = max(1, self.options.workers)
        tasks, jobs = self._tasks(todo, workers)
        self._committer = Committer(self._local_io, self._stop, self._committed)
        ok = False
        try:
            with progress:
                self._run_tasks(progress, todo, tasks, workers)
            ok = True
        except BaseException as e:
            commit_error = self._committer.stop()  # waits for the queued commits: none is left behind
            if isinstance(e, Cancelled) and commit_error is not None:
                raise commit_error from None  # the committer stopped the run: its error is the cause
            raise
        finally:
            try:
                if ok:
                    self._committer.finish()
            finally:
                _discard_unfinished(jobs)

    def _committed(self, c: Commit) -> None:
        """A file got its final name (on the committer's thread): count it and vouch for it in the state."""
        with self._lock:
            self.result.downloaded += 1
            self.result.bytes_downloaded += c.size
            self.fetched[c.relative] = {"size": c.size, "mtime": c.mtime}

    def _progress_bar(self) -> Progress:
        show = self.options.show_progress
        console = Console(stderr=True)
        return Progress(
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

    def _tasks(
        self, todo: list[RemoteFile], workers: int
    ) -> tuple[list[tuple[Callable[..., bool], tuple[object, ...]]], list[_RangedFile]]:
        """One task per small file, one per range of a large one (the ranged files returned too)."""
        tasks: list[tuple[Callable[..., bool], tuple[object, ...]]] = []
        jobs: list[_RangedFile] = []
        for f in todo:
            if workers > 1 and f.size >= max(self.options.range_threshold, 2):
                job = self._plan_ranges(f)
                jobs.append(job)
                tasks.extend((self.download_range, (job, a, n)) for a, n in job.ranges)
            else:
                tasks.append((self.download, (f,)))
        return tasks, jobs

    def _run_tasks(
        self,
        progress: Progress,
        todo: list[RemoteFile],
        tasks: list[tuple[Callable[..., bool], tuple[object, ...]]],
        workers: int,
    ) -> None:
        """Run the tasks on a pool, counting finished files; the first failure stops the others."""
        total_files = len(todo)
        task = progress.add_task("fetch", total=sum(f.size for f in todo), files=f"0/{total_files} files")
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


def _discard_unfinished(jobs: list[_RangedFile]) -> None:
    """Unfinished ranged files (a failed run): their temp files go."""
    for job in jobs:
        if not job.handed_over:
            with contextlib.suppress(OSError):
                os.close(job.fd)
            with contextlib.suppress(FileNotFoundError):
                job.tmp.unlink()


def fetch(
    source: str, landing: Path, settings: FetchSettings, options: FetchOptions | None = None
) -> FetchResult:
    """The local folder to load, from a folder path or an `sftp://user@host[:port]/folder` URL."""
    options = options or FetchOptions()
    if not is_sftp_url(source):
        return _local_product(Path(source).expanduser().resolve())
    try:
        target = parse_sftp_url(source)
    except SftpError as e:
        raise FetchError(str(e)) from None
    return _Fetcher(target, Path(landing), settings, options).run()
