"""A real OpenSSH server on 127.0.0.1 for the SFTP tests (and the benchmark).

Why real: paramiko's own test server would agree with paramiko about every protocol detail, so it could
not catch what a vendor's OpenSSH does (packet sizes, read-length limits, host-key types, auth order).

What it starts, and stops again:
- a throw-away system user (random name and random password) whose home is a fresh folder under /tmp
  (readable by that user, so the served tree is built there by the test, as root);
- a host key and a user key pair generated with ssh-keygen for this server only;
- `/usr/sbin/sshd -D` on an ephemeral loopback port with its own config: internal-sftp only (no shell,
  no forwarding), password and public-key auth, no PAM.

sshd must run as root (privilege separation and switching to the test user), which CI does. Every wait is
bounded; `stop()` kills only the processes this module started and deletes the user it created.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psutil

SSHD = Path("/usr/sbin/sshd")
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"
START_TIMEOUT = 10.0

_CONFIG = """\
ListenAddress 127.0.0.1
Port {port}
HostKey {host_key}
PidFile {pid_file}
AuthorizedKeysFile {authorized_keys}
AllowUsers {user}
PermitRootLogin no
UsePAM no
PasswordAuthentication yes
PermitEmptyPasswords no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
StrictModes no
Subsystem sftp internal-sftp
ForceCommand internal-sftp
AllowTcpForwarding no
AllowAgentForwarding no
X11Forwarding no
PermitTTY no
MaxStartups 100
MaxSessions 50
LoginGraceTime 20
LogLevel VERBOSE
"""


class SshdError(RuntimeError):
    """The test sshd could not be started; the message carries sshd's own log."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd: list[str], stdin: str | None = None) -> None:
    subprocess.run(cmd, input=stdin, text=True, check=True, capture_output=True, timeout=30)


@dataclass
class Sshd:
    """One running sshd; `root` is the folder the tests fill (the user's home)."""

    base: Path
    root: Path
    user: str
    password: str = field(repr=False)
    port: int = 0
    host_key: Path = field(init=False)
    user_key: Path = field(init=False)
    plain_key: Path = field(init=False)
    user_key_passphrase: str = field(init=False, repr=False)
    proc: subprocess.Popen[bytes] | None = None
    _log: object = None

    def __post_init__(self) -> None:
        self.host_key = self.base / "ssh_host_ed25519_key"
        self.user_key = self.base / "id_ed25519"
        self.plain_key = self.base / "id_plain"
        self.user_key_passphrase = "pp-" + secrets.token_urlsafe(12)

    # ---------- paths and strings the tests need
    @property
    def log_file(self) -> Path:
        return self.base / "sshd.log"

    @property
    def known_hosts_line(self) -> str:
        """A `[127.0.0.1]:port keytype base64` line, as `ssh-keyscan -p` would give."""
        pub = (self.base / "ssh_host_ed25519_key.pub").read_text().split()
        return f"[127.0.0.1]:{self.port} {pub[0]} {pub[1]}\n"

    def write_known_hosts(self, path: Path) -> Path:
        path.write_text(self.known_hosts_line)
        return path

    def url(self, remote_path: Path | str) -> str:
        return f"sftp://{self.user}@127.0.0.1:{self.port}{remote_path}"

    # ---------- lifecycle
    def generate_keys(self) -> None:
        keygen = [SSH_KEYGEN, "-q", "-t", "ed25519"]
        _run([*keygen, "-N", "", "-C", "edreflect-test-host", "-f", str(self.host_key)])
        _run(
            [SSH_KEYGEN, "-q", "-t", "ed25519", "-N", self.user_key_passphrase, "-C", "edreflect-test-user",
             "-f", str(self.user_key)]
        )
        # A second, unencrypted key for OpenSSH's own `sftp -b` (batch mode cannot ask for a passphrase).
        _run([*keygen, "-N", "", "-C", "edreflect-test-plain", "-f", str(self.plain_key)])
        auth = self.base / "authorized_keys"
        auth.write_text("".join((self.base / f"{k}.pub").read_text() for k in ("id_ed25519", "id_plain")))
        auth.chmod(0o644)

    def start(self, port: int | None = None) -> None:
        """Start sshd (on `port`, or a fresh ephemeral port) and wait until it accepts connections."""
        last = ""
        for _attempt in range(5):  # an ephemeral port can be taken between probe and bind: retry
            self.port = port or _free_port()
            cfg = self.base / "sshd_config"
            cfg.write_text(
                _CONFIG.format(
                    port=self.port,
                    host_key=self.host_key,
                    pid_file=self.base / "sshd.pid",
                    authorized_keys=self.base / "authorized_keys",
                    user=self.user,
                )
            )
            log = open(self.log_file, "ab")  # noqa: SIM115 - closed in stop()
            self.proc = subprocess.Popen(
                [str(SSHD), "-D", "-e", "-f", str(cfg)], stdout=log, stderr=log, stdin=subprocess.DEVNULL
            )
            self._log = log
            if self._wait_ready():
                return
            last = self.log_file.read_text(errors="replace")[-2000:]
            self.stop_server()
            if port:
                time.sleep(0.3)  # a fixed port (restart) may still be in TIME_WAIT: try again shortly
        raise SshdError(f"sshd did not start on 127.0.0.1; its log:\n{last}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.settimeout(2)
                    if s.recv(64).startswith(b"SSH-"):
                        return True
            except OSError:
                time.sleep(0.05)
        return False

    def session_processes(self) -> list[psutil.Process]:
        """The per-connection sshd processes (children of the listener), not the listener itself."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        try:
            return psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def kill_sessions(self) -> int:
        """Cut every open connection (SIGKILL the session processes); the listener keeps running."""
        procs = self.session_processes()
        _kill_and_wait(procs)
        return len(procs)

    def stop_server(self) -> None:
        """Stop the listener and its session processes (only those this object started).

        Sessions go first, while the listener is alive to reap them (PID 1 in a container may not)."""
        if self.proc is not None:
            _kill_and_wait(self.session_processes())
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=5)
            self.proc = None
        if self._log is not None:
            self._log.close()  # type: ignore[attr-defined]
            self._log = None

    def restart(self) -> None:
        """Stop and start again on the same port (same host key), as a server reboot would."""
        port = self.port
        self.stop_server()
        self.start(port=port)


def _alive(p: psutil.Process) -> bool:
    try:
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _kill_and_wait(procs: list[psutil.Process], timeout: float = 5.0) -> None:
    for p in procs:
        with suppress(psutil.NoSuchProcess):
            p.kill()
    deadline = time.monotonic() + timeout
    while any(_alive(p) for p in procs) and time.monotonic() < deadline:
        time.sleep(0.02)


def _require_root() -> None:
    if os.geteuid() != 0:
        raise SshdError("the SFTP tests start a real sshd, which must run as root (CI runs as root)")
    if not SSHD.exists():
        raise SshdError(f"{SSHD} is missing: `apt-get install -y openssh-server` (.ci/run does it)")


USER_PREFIX = "edrt"


def _remove_stale_users() -> None:
    """Users left by a test run that was killed before its cleanup: their home folder is gone (a running
    fixture's folder exists), so deleting them cannot disturb a run in progress."""
    for entry in pwd.getpwall():
        if (
            re.fullmatch(rf"{USER_PREFIX}[0-9a-f]{{8}}", entry.pw_name)
            and Path(entry.pw_dir).name == "srv"
            and Path(entry.pw_dir).parent.name.startswith("edreflect-sshd-")
            and not Path(entry.pw_dir).exists()
        ):
            subprocess.run(["userdel", entry.pw_name], capture_output=True, timeout=30, check=False)


@contextmanager
def running_sshd() -> Iterator[Sshd]:
    """Create user + keys, start sshd, yield it; always stop sshd, delete the user and the folder."""
    _require_root()
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
    base = Path(tempfile.mkdtemp(prefix="edreflect-sshd-"))
    base.chmod(0o755)
    root = base / "srv"
    root.mkdir(mode=0o755)
    _remove_stale_users()
    user = f"{USER_PREFIX}{secrets.token_hex(4)}"
    password = "pw-" + secrets.token_urlsafe(16)
    server = Sshd(base=base, root=root, user=user, password=password)
    user_created = False
    try:
        _run(["useradd", "--system", "--no-create-home", "--home-dir", str(root),
              "--shell", "/usr/sbin/nologin", user])
        user_created = True
        _run(["chpasswd"], stdin=f"{user}:{password}\n")
        server.generate_keys()
        server.start()
        yield server
    finally:
        server.stop_server()
        if user_created:
            subprocess.run(["userdel", user], capture_output=True, timeout=30, check=False)
        shutil.rmtree(base, ignore_errors=True)
