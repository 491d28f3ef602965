"""Helpers for tests/test_faults.py: run the pipeline as a real child process and inspect what it left.

Why child processes: a SIGKILL, a full disk or a held file lock must hit a real process, and the
warehouse must then be read by someone else, exactly as an operator would find it the next morning.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import posixpath
import re
import resource
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb
import paramiko

from extract import contract
from pipeline import config as cfg

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PRODUCT = PROJECT_ROOT / "tests" / "fixtures" / "example_product"
PIPELINE_VARS = (
    "DATA_PRODUCT",
    "WAREHOUSE",
    "EDFI_OUTPUT",
    "LANDING_DIR",
    "EDFI_DISTRICT_ID",
    "EDFI_SCHOOL_YEARS",
)
# The child table padded to make a run last long enough to be interrupted: text, one row per note part.
PAD_TABLE = "observations.activityMeetingNotes.content"


# ---------------------------------------------------------------- running the pipeline
def pipeline_env(run_dir: Path, data_product: str | Path, **extra: str) -> dict[str, str]:
    """The environment of one isolated pipeline run (its own warehouse, landing and output)."""
    env = {k: v for k, v in os.environ.items() if k not in PIPELINE_VARS and not k.startswith("SFTP_")}
    env |= {
        "DATA_PRODUCT": str(data_product),
        "WAREHOUSE": str(run_dir / "warehouse" / "edreflect.duckdb"),
        "EDFI_OUTPUT": str(run_dir / "output"),
        "LANDING_DIR": str(run_dir / "landing"),
        "EDFI_DISTRICT_ID": str(cfg.SAMPLE_DISTRICT_ID),
        "EDFI_SCHOOL_YEARS": ",".join(str(y) for y in cfg.SAMPLE_SCHOOL_YEARS),
        "DBT_PROFILES_DIR": str(PROJECT_ROOT),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "LOG_FILE": str(run_dir / "edreflect-edfi.log"),  # what the run did and when: tests wait on it
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


def warehouse_of(env: dict[str, str]) -> Path:
    return Path(env["WAREHOUSE"])


def log_of(env: dict[str, str]) -> Path:
    """The run's own log file, which says when each stage starts (the terminal shows a stage at its end
    when it is not a terminal)."""
    return Path(env["LOG_FILE"])


def file_size(path: Path) -> int:
    """Bytes in `path` now (0 if absent): where a run about to start will append."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def dbt_dir_of(env: dict[str, str]) -> Path:
    """dbt's folder for the run's warehouse (its target folders and log: runs never share them)."""
    from pipeline.dbt import dbt_dir

    return dbt_dir(cfg.from_env({"WAREHOUSE": env["WAREHOUSE"]}, command="dbt"))


def dbt_log_of(env: dict[str, str]) -> Path:
    """dbt's full log for the run's warehouse."""
    from pipeline.dbt import log_file

    return log_file(cfg.from_env({"WAREHOUSE": env["WAREHOUSE"]}, command="dbt"))


class Run:
    """A pipeline command running in its own process group; its output is collected as it comes."""

    def __init__(
        self, command: str, env: dict[str, str], preexec_fn: Callable[[], None] | None = None
    ) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline", command],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
            preexec_fn=preexec_fn,  # only setrlimit (disk-full test), before exec
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def output(self) -> str:
        with self._cond:
            return "".join(self.lines)

    def wait_for_file(
        self, path: Path, pattern: str, timeout: float, after: int = 0, every: float = 0.1
    ) -> bool:
        """True once `path` holds a line matching `pattern` past its first `after` bytes (what earlier
        runs wrote, see `file_size`), looking `every` seconds; False if the run ended or time ran out."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        searched = after  # bytes already searched (the file only grows during a run)
        while time.monotonic() < deadline:
            with suppress(FileNotFoundError), open(path, "rb") as fh:
                fh.seek(max(after, searched - 1000))  # a line cut at the last read is searched again whole
                if rx.search(fh.read().decode("utf-8", "replace")):
                    return True
                searched = fh.tell()
            if self.proc.poll() is not None:
                return False
            time.sleep(every)
        return False

    def pause(self) -> None:
        """SIGSTOP the whole process group: it stays where it is, holding what it holds (its lock, its
        half-written files), however slow the machine, until `resume` or `kill`."""
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL the whole process group: no handler, no cleanup, as a power cut or the OOM killer."""
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def finish(self, timeout: float) -> int:
        """Wait for the end (killing it after `timeout`, which then fails the caller's assertions)."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = self.proc.wait(timeout=30)
            self.lines.append(f"\n[test] killed after {timeout:.0f} s: the run hung\n")
        self._reader.join(timeout=10)
        return rc


def run(command: str, env: dict[str, str], timeout: float = 300, **kw) -> tuple[int, str]:
    r = Run(command, env, **kw)
    rc = r.finish(timeout)
    return rc, r.output


def assert_ok(rc: int, output: str) -> None:
    assert rc == 0, f"the run failed (exit {rc}):\n{output[-4000:]}"


def assert_clear_error(rc: int, output: str, *patterns: str) -> None:
    """Exit code non-zero, an `error:` line of ours, no Python traceback, and each pattern present."""
    assert rc not in (0, -signal.SIGKILL), f"expected a clean failure, got exit {rc}:\n{output[-4000:]}"
    assert "Traceback (most recent call last)" not in output, (
        f"a traceback instead of a message:\n{output[-4000:]}"
    )
    assert re.search(r"(?m)^error: ", output), f"no `error:` line:\n{output[-4000:]}"
    for p in patterns:
        assert re.search(p, output, re.IGNORECASE), f"the message does not match {p!r}:\n{output[-4000:]}"


# ---------------------------------------------------------------- products
def copy_product(dest: Path, source: Path = EXAMPLE_PRODUCT) -> Path:
    shutil.copytree(source, dest)
    return dest


def _line_end(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    return "\r\n" if b"\r\n" in head else "\n"


def pad_table(product: Path, megabytes: float, table_name: str = PAD_TABLE) -> int:
    """Append records of incompressible multi-line text to one table until it grows by `megabytes`.

    Random text (not a repeated string) so DuckDB cannot compress it away: the padding must cost the
    warehouse about as much space as it costs the file. Returns the number of records added.
    """
    t = next(t for t in contract.tables() if t.name == table_name)
    path = product / t.relative_path
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        last = list(reader)[-1]
    target = int(megabytes * 1e6)
    text_col = header.index("body") if "body" in header else len(header) - 1
    index_col = header.index("_index") if "_index" in header else None
    written = added = 0
    with open(path, "a", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator=_line_end(path))
        while written < target:
            row = list(last)
            if index_col is not None:
                row[index_col] = str(1000 + added)
            row[text_col] = f'pad "{added}", line one\n' + secrets.token_hex(2000)
            w.writerow(row)
            written += len(row[text_col]) + 80
            added += 1
    return added


def csv_records(path: Path) -> int:
    """Records in one contract file, counted independently of the loader (Python's csv module)."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return max(0, sum(1 for row in csv.reader(fh) if row) - 1)


def source_records(product: Path) -> dict[str, int]:
    """{table name: records} for every contract table (an absent optional file has none)."""
    out = {}
    for t in contract.tables():
        p = product / t.relative_path
        out[t.name] = csv_records(p) if p.is_file() else 0
    return out


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- warehouse state
def connect_ro(warehouse: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(warehouse), read_only=True)


def raw_state(warehouse: Path) -> dict[str, object]:
    """What a later reader sees: per contract table (rows, load ids), and the manifest/quarantine sizes."""
    con = connect_ro(warehouse)
    try:
        state: dict[str, object] = {}
        for t in contract.tables():
            rows, ids = con.execute(
                f"select count(*), list(distinct _load_id order by _load_id) from {t.raw_relation}"
            ).fetchone()
            state[t.name] = (rows, tuple(ids or ()))
        for meta in ("_loads", "_rejects"):
            state[meta] = con.execute(f"select count(*) from raw.{meta}").fetchone()[0]
        return state
    finally:
        con.close()


def assert_rows_reconcile(product: Path, warehouse: Path) -> dict[str, int]:
    """Rows lost = 0 and nothing duplicated, for every contract table of `product`.

    For each table: rows in raw + records rejected by that load = records in the file; every raw row
    comes from one load and one distinct physical line. Returns {table: rows lost} (all zero).
    """
    expected = source_records(product)
    con = connect_ro(warehouse)
    lost: dict[str, int] = {}
    problems: list[str] = []
    try:
        for t in contract.tables():
            rows, lines, ids = con.execute(
                "select count(*), count(distinct _source_line), list(distinct _load_id) "
                f"from {t.raw_relation}"
            ).fetchone()
            ids = [i for i in (ids or []) if i is not None]
            if len(ids) > 1:
                problems.append(f"{t.name}: rows from {len(ids)} loads {ids}")
            rejected = 0
            if ids:
                rejected = con.execute(
                    "select count(distinct record_number) from raw._rejects "
                    "where load_id = ? and source_file = ?",
                    [ids[0], t.relative_path],
                ).fetchone()[0]
            lost[t.name] = expected[t.name] - rows - rejected
            if lost[t.name]:
                problems.append(
                    f"{t.name}: file {expected[t.name]} records, raw {rows} + rejected {rejected}"
                )
            if lines != rows:
                problems.append(f"{t.name}: {rows} rows but {lines} distinct source lines (duplicates)")
    finally:
        con.close()
    assert not problems, "rows lost or duplicated:\n" + "\n".join(problems)
    return lost


# ---------------------------------------------------------------- a small disk
@contextmanager
def small_filesystem(path: Path, size_mb: int) -> Iterator[Callable[[], None] | None]:
    """A folder that fills up at `size_mb`: a tmpfs when this machine lets root mount one.

    Yields None with a real tmpfs (the run then gets ENOSPC), or, where mounting is not allowed (some
    containers), a `preexec_fn` that caps the run's file size with RLIMIT_FSIZE (the run gets EFBIG).
    Either way the run hits a write error mid-way; the tmpfs is always unmounted afterwards.
    """
    path.mkdir(parents=True, exist_ok=True)
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755", "tmpfs", str(path)],
            capture_output=True,
            timeout=30,
        ).returncode
        == 0
    )
    if mounted:
        try:
            yield None
        finally:
            if subprocess.run(["umount", str(path)], capture_output=True, timeout=30).returncode != 0:
                subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)
        return
    limit = size_mb * 1_000_000

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    yield cap


@contextmanager
def duckdb_holder(warehouse: Path, read_only: bool) -> Iterator[subprocess.Popen[str]]:
    """Another process with the warehouse open (a DuckDB shell, a notebook), until the block ends."""
    code = (
        "import duckdb, sys, time\n"
        f"con = duckdb.connect(sys.argv[1], read_only={read_only!r})\n"
        "print('holding', flush=True)\n"
        "time.sleep(300)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(warehouse)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "holding", (
            f"the holder could not open the warehouse: {line}{proc.stdout.read()}"
        )
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=30)


# ---------------------------------------------------------------- a hostile SFTP server
HOSTILE_CSV = b"_id\nhostile\n"


def _attrs(name: str, content: bytes | None) -> paramiko.SFTPAttributes:
    a = paramiko.SFTPAttributes()
    a.filename = name
    a.st_mode = (stat.S_IFDIR | 0o755) if content is None else (stat.S_IFREG | 0o644)
    a.st_size = 0 if content is None else len(content)
    a.st_uid = a.st_gid = 0
    a.st_atime = a.st_mtime = 1_700_000_000
    return a


class _HostileSftp(paramiko.SFTPServerInterface):
    """Serves a product from memory and adds names no honest file system holds: `../x.csv`, absolute
    paths, `..`. Opening any path that is not in the tree hands out a small CSV, so a client that joins
    such a name to its landing folder would write outside it."""

    def __init__(
        self, server: paramiko.ServerInterface, tree: dict[str, bytes | None], extra: dict[str, list[str]]
    ) -> None:
        super().__init__(server)
        self.tree, self.extra = tree, extra

    def _norm(self, path: str) -> str:
        return posixpath.normpath("/" + path) if not path.startswith("/") else posixpath.normpath(path)

    def canonicalize(self, path: str) -> str:
        return self._norm(path)

    def list_folder(self, path: str) -> list[paramiko.SFTPAttributes] | int:
        path = self._norm(path)
        if self.tree.get(path, b"") is not None:
            return paramiko.SFTP_NO_SUCH_FILE
        out = [
            _attrs(posixpath.basename(p), c)
            for p, c in self.tree.items()
            if posixpath.dirname(p) == path and p != path
        ]
        out += [_attrs(name, HOSTILE_CSV) for name in self.extra.get(path, [])]
        return out

    def stat(self, path: str) -> paramiko.SFTPAttributes:
        path = self._norm(path)
        return _attrs(posixpath.basename(path), self.tree.get(path, HOSTILE_CSV))

    lstat = stat

    def open(self, path: str, flags: int, attr: paramiko.SFTPAttributes) -> paramiko.SFTPHandle | int:
        if flags & (os.O_WRONLY | os.O_RDWR):
            return paramiko.SFTP_PERMISSION_DENIED
        path = self._norm(path)
        content = self.tree.get(path, HOSTILE_CSV)
        if content is None:
            return paramiko.SFTP_FAILURE
        handle = paramiko.SFTPHandle(flags)
        handle.readfile = io.BytesIO(content)  # type: ignore[attr-defined]
        handle.stat = lambda: _attrs(posixpath.basename(path), content)  # type: ignore[method-assign]
        return handle


class _KeyAuth(paramiko.ServerInterface):
    def __init__(self, user: str, key: paramiko.PKey) -> None:
        self.user, self.key = user, key

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        ok = username == self.user and key.asbytes() == self.key.asbytes()
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return (
            paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        )


@dataclass
class HostileServer:
    url: str
    key_file: Path
    known_hosts: Path


@contextmanager
def hostile_sftp_server(product: Path, base: Path, extra: dict[str, list[str]]) -> Iterator[HostileServer]:
    """A paramiko SFTP server on 127.0.0.1 serving `product` at `/product` plus the `extra` names.

    A real OpenSSH server reads names from a real file system, which cannot hold `/` in a name; a hostile
    or broken server can send anything, so this one does. Stopped (socket and sessions) on exit.
    """
    base.mkdir(parents=True, exist_ok=True)
    for name in ("host_key", "user_key"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(base / name)],
            check=True,
            capture_output=True,
            timeout=30,
        )
    host_key = paramiko.Ed25519Key(filename=str(base / "host_key"))
    user_key = paramiko.Ed25519Key(filename=str(base / "user_key"))
    tree: dict[str, bytes | None] = {"/": None, "/product": None}
    for p in sorted(product.rglob("*")):
        tree["/product/" + p.relative_to(product).as_posix()] = None if p.is_dir() else p.read_bytes()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)
    port = sock.getsockname()[1]
    stop = threading.Event()
    transports: list[paramiko.Transport] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            t = paramiko.Transport(conn)
            transports.append(t)
            t.add_server_key(host_key)
            t.set_subsystem_handler("sftp", paramiko.SFTPServer, _HostileSftp, tree, extra)
            with suppress(
                paramiko.SSHException, EOFError, OSError
            ):  # one bad client must not stop the server
                t.start_server(server=_KeyAuth("vendor", user_key))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    known = base / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} ssh-ed25519 {host_key.get_base64()}\n")
    try:
        yield HostileServer(f"sftp://vendor@127.0.0.1:{port}/product", base / "user_key", known)
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()
        for t in transports:
            t.close()
