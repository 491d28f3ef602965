"""A real PostgreSQL server on 127.0.0.1 for the ENGINE=postgres tests.

`initdb` refuses to run as root, so under root (CI) the cluster belongs to the `postgres` system user that
Debian's `postgresql` package creates, and `initdb`/`pg_ctl` run as that user; otherwise as the current
user. The cluster lives in a fresh temporary folder, listens on a free loopback port only (its socket in
that folder), asks for a password (scram-sha-256, so the PGPASSWORD route is the one tested), and trades
durability for speed (fsync off). Its time zone is America/Chicago, not UTC: nothing may depend on the
session's zone. Every wait is bounded; `stop()` stops only this cluster and removes its folder.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT = 30  # seconds, pg_ctl -t
OS_USER = "postgres"  # the system user Debian's postgresql package creates
DB_USER = "edreflect"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries, or no user to run them as: the caller skips."""


@dataclass
class Server:
    port: int
    password: str
    root: Path
    bindir: Path
    os_user: str | None  # None: runs as the current user

    @property
    def data(self) -> Path:
        return self.root / "data"

    def environ(self, database: str) -> dict[str, str]:
        """libpq's variables for a database of this server."""
        return {
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.port),
            "PGUSER": DB_USER,
            "PGPASSWORD": self.password,
            "PGDATABASE": database,
        }

    def connect(self, database: str):
        """A psycopg2 connection to a database of this server."""
        import psycopg2

        return psycopg2.connect(**_connect_args(self.environ(database)))

    def create_database(self, name: str) -> None:
        con = self.connect("postgres")
        try:
            con.autocommit = True
            con.cursor().execute(f'create database "{name}"')
        finally:
            con.close()

    def _run(self, *args: str, timeout: float) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(a) for a in args],
            user=self.os_user,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def stop(self) -> None:
        """Stop the cluster (fast, then immediate, then kill its own postmaster) and remove its folder."""
        try:
            if (self.data / "postmaster.pid").exists():
                for mode in ("fast", "immediate"):
                    with suppress(subprocess.TimeoutExpired):
                        if (
                            self._run(
                                self.bindir / "pg_ctl",
                                "-D",
                                self.data,
                                "-m",
                                mode,
                                "-w",
                                "-t",
                                "15",
                                "stop",
                                timeout=20,
                            ).returncode
                            == 0
                        ):
                            break
                else:
                    _kill_postmaster(self.data)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _connect_args(env: dict[str, str]) -> dict[str, object]:
    return {
        "host": env["PGHOST"],
        "port": int(env["PGPORT"]),
        "user": env["PGUSER"],
        "password": env["PGPASSWORD"],
        "dbname": env["PGDATABASE"],
        "connect_timeout": 10,
    }


def _kill_postmaster(data: Path) -> None:
    """The postmaster of this data folder only (its pid is the first line of postmaster.pid)."""
    with suppress(OSError, ValueError, IndexError):
        pid = int((data / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)


def bindir() -> Path:
    """The newest installed server's binaries (Debian keeps them out of PATH)."""
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PostgresUnavailable("no PostgreSQL server binaries (install Debian's postgresql package)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_server() -> Iterator[Server]:
    """A fresh cluster for the duration of the block, stopped and removed afterwards, even on failure."""
    binaries = bindir()
    os_user = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam(OS_USER)
        except KeyError:
            raise PostgresUnavailable(
                f"running as root and there is no {OS_USER!r} user to run initdb as"
            ) from None
        os_user = OS_USER
    root = Path(tempfile.mkdtemp(prefix="edreflect-pg-"))
    if os_user is not None:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    root.chmod(0o700)
    server = Server(_free_port(), secrets.token_urlsafe(18), root, binaries, os_user)
    try:
        pwfile = root / "pw"
        pwfile.write_text(server.password + "\n")
        if os_user is not None:
            os.chown(pwfile, owner.pw_uid, owner.pw_gid)
        res = server._run(
            binaries / "initdb",
            "-D",
            server.data,
            "-U",
            DB_USER,
            "--pwfile",
            pwfile,
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "-N",
            timeout=120,
        )
        pwfile.unlink()
        if res.returncode:
            raise RuntimeError(f"initdb failed:\n{res.stdout}\n{res.stderr}")
        options = (
            f"-c listen_addresses=127.0.0.1 -p {server.port} -k {root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=20 "
            "-c TimeZone=America/Chicago"
        )
        res = server._run(
            binaries / "pg_ctl",
            "-D",
            server.data,
            "-l",
            root / "server.log",
            "-w",
            "-t",
            str(START_TIMEOUT),
            "-o",
            options,
            "start",
            timeout=START_TIMEOUT + 10,
        )
        if res.returncode:
            log = (root / "server.log").read_text(errors="replace") if (root / "server.log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed:\n{res.stdout}\n{res.stderr}\n{log[-2000:]}")
        yield server
    finally:
        server.stop()
