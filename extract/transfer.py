"""The SFTP side of a fetch, one job per class: a `Session` owns the connections (one per worker thread)
and the retry policy; a `Transfer` fetches one file into the landing folder, whole or as byte ranges, and
hands it to the committer. `extract.fetch` lists the remote folder and runs the fetch with these.

Log records go to the `extract.fetch` logger, whichever module writes them (as in `extract.landing`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .landing import Cancelled, Commit, Committer, FetchError, LocalWriter, inside, part_path
from .sftp import (
    TRANSIENT_ERRORS,
    Connection,
    Credentials,
    HostKeyPolicy,
    Login,
    SftpError,
    SftpTarget,
    kind,
    scrub,
)

if TYPE_CHECKING:
    from .fetch import FetchOptions

log = logging.getLogger("extract.fetch")  # the fetch's one logger, whichever module writes


@dataclass(frozen=True)
class RemoteFile:
    group: str
    name: str
    size: int
    mtime: int

    @property
    def relative(self) -> str:
        return f"{self.group}/{self.name}"


class _RemoteChanged(Exception):
    """A range saw the remote file change (other size or mtime, shorter than listed): the whole file is
    fetched again in one stream. Not a transient error, so the range itself is not retried."""


@dataclass(eq=False)
class RangedFile:
    """One large file being fetched as byte ranges by several workers, each over its own connection.

    Every range writes at its own offset of one temp file; the worker that finishes the last range checks
    that the remote file did not change meanwhile (same size and mtime as listed, still a regular file)
    and hands the temp file to the committer, which renames it. A range that loses its connection is
    retried on its own (pwrite at the same offsets makes a retry idempotent); a range that sees the file
    change makes the last worker fetch the whole file again in one stream instead. If the run fails, the
    temp file is deleted (discard_unfinished), so no partial file ever gets a final name."""

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


def discard_unfinished(jobs: list[RangedFile]) -> None:
    """Unfinished ranged files (a failed run): their temp files go."""
    for job in jobs:
        if not job.handed_over:
            with contextlib.suppress(OSError):
                os.close(job.fd)
            with contextlib.suppress(FileNotFoundError):
                job.tmp.unlink()


@dataclass(frozen=True)
class LocalDisk:
    """The landing folder's disk, as seen by the fetch: its errors stop the run with the path and the fix."""

    landing: Path

    @contextlib.contextmanager
    def io(self, path: Path) -> Iterator[None]:
        """A failing local disk (full, read-only, permissions) is not a dropped connection: reconnecting
        cannot help, so it stops the run at once with the path and the fix."""
        try:
            yield
        except OSError as e:
            raise FetchError(
                f"cannot write {path}: {e.strerror or e}. Make room in (or fix the permissions of) the "
                f"landing folder {self.landing} (LANDING_DIR), then run again."
            ) from None


def size_and_mtime(attrs) -> tuple[int, int]:
    """What a listing or `lstat` says of a remote file, as RemoteFile keeps it (missing fields: 0)."""
    return int(attrs.st_size or 0), int(attrs.st_mtime or 0)


def local_path(product_dir: Path, f: RemoteFile) -> Path:
    return inside(product_dir, product_dir / f.group / f.name)


# ---------------------------------------------------------------------------------------------- session
class Session:
    """The SFTP connections of one fetch (one per worker thread, the login shared) and its retry policy.
    `stop` is set when the run fails: retries and downloads in flight give up at once."""

    def __init__(
        self, target: SftpTarget, creds: Credentials, policy: HostKeyPolicy, options: FetchOptions
    ) -> None:
        self.target = target
        self.options = options
        self.creds = creds
        self.policy = policy
        self.secrets = creds.values()
        self.stop = threading.Event()
        self.retries = 0  # reconnections so far, for the run's result
        self._lock = threading.Lock()
        self._local = threading.local()
        self._connections: list[Connection] = []
        self._login: Login | None = None  # prepared by the first connection (the listing), then shared

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

    def conn(self) -> Connection:
        """This thread's connection, (re)opened if there is none or it dropped."""
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.transport is None or not conn.transport.is_active():
            if conn is not None:
                conn.close()
            conn = self._connect()
            self._local.conn = conn
        return conn

    def drop_conn(self) -> None:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def close_all(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()

    def retrying(self, what: str, action: Callable[[], object]) -> object:
        """Run `action`; on a dropped connection reconnect with exponential back-off, a bounded number of
        times. Permanent errors (host key, credentials, layout) are raised at once."""
        last: BaseException | None = None
        for attempt in range(1, self.options.attempts + 1):
            if self.stop.is_set():
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
                self.drop_conn()
                if attempt == self.options.attempts:
                    break
                delay = min(self.options.backoff_max, self.options.backoff_base * 2 ** (attempt - 1))
                with self._lock:
                    self.retries += 1
                log.warning(
                    "%s: %s (%s); reconnecting in %.1f s (attempt %d of %d)",
                    what,
                    type(e).__name__,
                    scrub(str(e), self.secrets)[:200] or "connection lost",
                    delay,
                    attempt + 1,
                    self.options.attempts,
                )
                self.stop.wait(delay)  # a failing run wakes the sleepers at once
        detail = scrub(f"{type(last).__name__}: {last}", self.secrets)[:300]
        raise FetchError(
            f"{what} failed {self.options.attempts} times on {self.target.host}:{self.target.port} "
            f"({detail}). Check that the server is reachable and the folder {self.target.path} is readable, "
            f"then run again."
        ) from None


# ---------------------------------------------------------------------------------------------- transfer
class Transfer:
    """Fetches listed files into the product folder over the session's connections, each whole in one
    stream or (large ones) as byte ranges, and hands every complete temp file to the committer. One
    instance is shared by the worker threads; every connection it uses is its thread's own."""

    def __init__(
        self,
        session: Session,
        disk: LocalDisk,
        product_dir: Path,
        options: FetchOptions,
        committer: Committer,
    ) -> None:
        self.session = session
        self.target = session.target
        self.disk = disk
        self.product_dir = product_dir
        self.options = options
        self.committer = committer

    def _remote_path(self, f: RemoteFile) -> str:
        return f"{self.target.path.rstrip('/')}/{f.group}/{f.name}"

    def _final_path(self, f: RemoteFile) -> Path:
        final = local_path(self.product_dir, f)
        with self.disk.io(final.parent):
            final.parent.mkdir(parents=True, exist_ok=True)
        inside(self.product_dir, final.parent)
        return final

    def _not_a_file(self, remote: str, what: str) -> FetchError:
        return FetchError(
            f"{remote} on {self.target.host}:{self.target.port} is a {what}, not a regular "
            f"file (the folder listing said otherwise, or it changed since); symlinks are never "
            f"followed: ask the vendor to deliver regular files, then run again"
        )

    def _check_stop(self, f: RemoteFile) -> None:
        if self.session.stop.is_set():
            raise Cancelled(f"{f.relative}: stopped because another download failed")

    def download(self, f: RemoteFile, on_bytes: Callable[[int], None]) -> bool:
        """One file in one stream, retried as a whole; handed to the committer when complete."""
        final = self._final_path(f)
        self.session.retrying(f"downloading {f.relative}", lambda: self._download_once(f, final, on_bytes))
        return True

    def _download_once(self, f: RemoteFile, final: Path, on_bytes: Callable[[int], None]) -> None:
        conn = self.session.conn()
        remote = self._remote_path(f)
        attrs = conn.lstat(remote)
        if kind(attrs) != "file":
            raise self._not_a_file(remote, kind(attrs))
        size, mtime = size_and_mtime(attrs)
        tmp = part_path(final)
        done = 0

        def progress(n: int) -> None:
            nonlocal done
            self._check_stop(f)
            done += n
            on_bytes(n)
            if self.options.on_progress is not None:
                self.options.on_progress(f.relative, done, size)

        fd = -1
        try:
            with self.disk.io(tmp):
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            written = conn.download(remote, size, LocalWriter(fd, 0, self.disk.io, tmp), progress)
            if written != size:
                raise OSError(f"{remote}: got {written} bytes, the server says {size} (file changing?)")
            self.committer.commit(Commit(fd, tmp, final, f.relative, size, mtime))
            fd = -1  # the committer's now
        except BaseException:
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            on_bytes(-done)  # the progress bar gives back what the failed attempt counted
            raise

    def plan_ranges(self, f: RemoteFile) -> RangedFile:
        final = self._final_path(f)
        n = max(2, -(-f.size // self.options.range_size))
        bounds = [f.size * i // n for i in range(n + 1)]
        return RangedFile(
            file=f,
            remote=self._remote_path(f),
            tmp=part_path(final),
            final=final,
            ranges=[(a, b - a) for a, b in zip(bounds, bounds[1:], strict=False)],
            left=n,
        )

    def download_range(
        self, job: RangedFile, start: int, length: int, on_bytes: Callable[[int], None]
    ) -> bool:
        """One range of a large file, retried on its own; the last range to end finishes the file.
        Returns whether this call completed the file."""
        f = job.file
        with job.lock, self.disk.io(job.tmp):
            if job.fd < 0:
                job.fd = os.open(job.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            self.session.retrying(
                f"downloading {f.relative} (bytes {start}-{start + length})",
                lambda: self._range_once(job, start, length, on_bytes),
            )
        except _RemoteChanged:
            job.changed = True
        with job.lock:
            job.left -= 1
            last = job.left == 0
        if not last:
            self.committer.sync(job.fd)  # flush this range now, not all of the file at the end
            return False
        return self._finish_ranged(job, on_bytes)

    def _range_once(self, job: RangedFile, start: int, length: int, on_bytes: Callable[[int], None]) -> None:
        f = job.file
        conn = self.session.conn()
        attrs = conn.lstat(job.remote)
        if kind(attrs) != "file":
            raise self._not_a_file(job.remote, kind(attrs))
        if size_and_mtime(attrs) != (f.size, f.mtime):
            raise _RemoteChanged(job.remote)
        done = 0

        def progress(n: int) -> None:
            nonlocal done
            self._check_stop(f)
            done += n
            on_bytes(n)
            with job.lock:
                job.done += n
                total = job.done
            if self.options.on_progress is not None:
                self.options.on_progress(f.relative, total, f.size)

        try:
            writer = LocalWriter(job.fd, start, self.disk.io, job.tmp)
            written = conn.download_range(job.remote, start, length, writer, progress)
        except BaseException:
            on_bytes(-done)
            with job.lock:
                job.done -= done
            raise
        if written != length:  # the file ended early: it shrank
            raise _RemoteChanged(job.remote)

    def _finish_ranged(self, job: RangedFile, on_bytes: Callable[[int], None]) -> bool:
        f = job.file

        def check() -> bool:
            attrs = self.session.conn().lstat(job.remote)
            return kind(attrs) == "file" and size_and_mtime(attrs) == (f.size, f.mtime)

        if not job.changed and self.session.retrying(f"checking {f.relative}", check):
            job.handed_over = True
            self.committer.commit(Commit(job.fd, job.tmp, job.final, f.relative, f.size, f.mtime))
            return True
        log.info("%s changed on the server while it was fetched in ranges: fetching it again", f.relative)
        with contextlib.suppress(OSError):
            os.close(job.fd)
        job.handed_over = True  # nothing left for the clean-up: the temp file is deleted here
        with contextlib.suppress(FileNotFoundError):
            job.tmp.unlink()
        on_bytes(-job.done)
        return self.download(f, on_bytes)
