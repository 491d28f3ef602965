"""The SFTP side of the fetch: parse the source URL, connect with paramiko, verify the host key, list
and download one file.

Kept apart from `fetch.py` (orchestration, layout, state) so the one module that speaks SSH is small
enough to review for the two things that matter most here: host keys are verified before any credential
is sent, and no secret ever reaches a log line or an exception message.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import stat
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import unquote, urlsplit

import paramiko

log = logging.getLogger(__name__)

# Throughput tuning (measured against OpenSSH's `sftp` over loopback, see bench/): a large channel window
# and packet size let the server stream without waiting for window adjustments, and large read requests
# cut the per-request Python overhead, which is what limits paramiko.
WINDOW_SIZE = 2**25
MAX_PACKET_SIZE = 2**18
# OpenSSH's sftp-server answers reads of up to 256 KiB - 1024 since 8.6 and 64 KiB before; 32 KiB is the
# size every SFTP server must accept. A server that answers less is still read correctly (paramiko
# re-requests the gap), only slower; SFTP_READ_SIZE overrides the choice.
READ_SIZE_OPENSSH_NEW = 256 * 1024 - 1024
READ_SIZE_OPENSSH_OLD = 64 * 1024
READ_SIZE_SAFE = 32 * 1024
CONNECT_TIMEOUT = 20.0
IO_TIMEOUT = 60.0
PREFERRED_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes256-ctr")

ProgressCallback = Callable[[int], None]


class Writer(Protocol):
    def write(self, data: bytes, /) -> int: ...


class SftpError(RuntimeError):
    """A permanent SFTP problem (bad URL, host key, credentials): retrying cannot help."""


@dataclass(frozen=True)
class SftpTarget:
    """`sftp://user@host:port/path`; the path is absolute on the server (`/~/x` = relative to home)."""

    user: str
    host: str
    port: int
    path: str

    @property
    def known_hosts_name(self) -> str:
        """The name OpenSSH writes in known_hosts: `host` on port 22, else `[host]:port`."""
        return self.host if self.port == 22 else f"[{self.host}]:{self.port}"

    @property
    def display(self) -> str:
        """Safe to print: never holds a password."""
        return f"sftp://{self.user}@{self.host}:{self.port}{self.path}"


def is_sftp_url(source: str) -> bool:
    return source.strip().lower().startswith("sftp://")


def parse_sftp_url(source: str) -> SftpTarget:
    """`sftp://user@host[:port]/path` (scheme in any case; IPv6 hosts in brackets) or `SftpError` saying
    what is wrong with it. Never echoes a URL that holds a password."""
    expected = "expected sftp://user@host[:port]/folder"
    try:
        parts = urlsplit(source.strip())
        has_password = parts.password is not None
    except ValueError:
        netloc = source.strip().partition("://")[2].split("/", 1)[0]
        parts, has_password = None, "@" in netloc and ":" in netloc.rsplit("@", 1)[0]
    if has_password:
        # Do not echo the URL: it holds the password.
        raise SftpError(
            "DATA_PRODUCT holds a password in the sftp:// URL; remove it from the URL and set SFTP_PASSWORD "
            "in the environment instead (URLs end up in shell history and logs)."
        )
    shown = source.strip()  # safe to echo: it holds no password (checked above)
    if parts is None:  # urlsplit refuses it, e.g. an unclosed `[` of an IPv6 address
        raise SftpError(
            f"DATA_PRODUCT={shown!r} is not a well-formed URL (an IPv6 host must be in brackets, "
            f"e.g. sftp://user@[::1]:22/folder); {expected}"
        )
    if parts.scheme.lower() != "sftp":
        raise SftpError(f"DATA_PRODUCT={shown!r} is not an sftp:// URL; {expected}")
    if not parts.hostname:
        raise SftpError(f"DATA_PRODUCT={shown!r} has no host; {expected}")
    if not parts.username:
        raise SftpError(f"DATA_PRODUCT={shown!r} has no user name; {expected}")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is None:
        port = 22
    elif not 1 <= port <= 65535:  # port 0 is a typo, not "the default"
        raise SftpError(
            f"DATA_PRODUCT={shown!r} has an invalid port; use a port from 1 to 65535, or none for 22"
        )
    if parts.query or parts.fragment:
        raise SftpError(
            f"DATA_PRODUCT={shown!r} has `?` or `#` in it; write them as %3F and %23 in a folder name; "
            f"{expected}"
        )
    path = unquote(parts.path or "/")
    if path.startswith("/~/"):
        path = path[3:] or "."
    elif path in ("/~", ""):
        path = "."
    if "\x00" in path or ".." in PurePosixPath(path).parts:
        raise SftpError(f"DATA_PRODUCT={shown!r}: the folder path may not contain `..` or NUL")
    path = path.rstrip("/") or "/"
    return SftpTarget(user=unquote(parts.username), host=parts.hostname, port=port, path=path)


@dataclass(frozen=True)
class Credentials:
    """From the environment only. `repr` shows which kind, never the values."""

    key_file: Path | None
    key_passphrase: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(
        cls, secrets: dict[str, str] | None = None, env: dict[str, str] | None = None
    ) -> Credentials:
        env = dict(os.environ if env is None else env)
        merged = {**env, **(secrets or {})}
        key = merged.get("SFTP_KEY_FILE", "").strip()
        return cls(
            key_file=Path(key).expanduser() if key else None,
            key_passphrase=merged.get("SFTP_KEY_PASSPHRASE") or None,
            password=merged.get("SFTP_PASSWORD") or None,
        )

    def values(self) -> list[str]:
        """The secret strings, so callers can scrub them from any text they are about to print."""
        return [v for v in (self.key_passphrase, self.password) if v]


@dataclass(frozen=True)
class HostKeyPolicy:
    known_hosts: Path
    insecure_accept_any: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> HostKeyPolicy:
        env = dict(os.environ if env is None else env)
        path = env.get("SFTP_KNOWN_HOSTS", "").strip() or "~/.ssh/known_hosts"
        insecure = env.get("SFTP_INSECURE_ACCEPT_UNKNOWN_HOST", "").strip().lower() in ("1", "true", "yes")
        return cls(known_hosts=Path(path).expanduser(), insecure_accept_any=insecure)


def scrub(text: str, secrets: list[str]) -> str:
    """Belt and braces: no secret value survives in a message, whatever the library put in it."""
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text


def _fingerprint(key: paramiko.PKey) -> str:
    return key.fingerprint  # `SHA256:...`, the form `ssh-keygen -lf` prints


def _load_known(policy: HostKeyPolicy, target: SftpTarget) -> dict[str, paramiko.PKey]:
    """The known keys of this host (by key type); empty if none. `[host]:port` and hashed entries work."""
    if not policy.known_hosts.exists():
        return {}
    try:
        keys = paramiko.HostKeys(str(policy.known_hosts))
    except (OSError, paramiko.SSHException) as e:
        raise SftpError(f"cannot read known_hosts file {policy.known_hosts}: {e}") from None
    found = keys.lookup(target.known_hosts_name)
    return dict(found) if found is not None else {}


def _check_host_key(
    transport: paramiko.Transport, target: SftpTarget, policy: HostKeyPolicy, known: dict[str, paramiko.PKey]
) -> None:
    key = transport.get_remote_server_key()
    name = target.known_hosts_name
    if known.get(key.get_name()) == key:
        return
    keyscan = "ssh-keyscan " + (f"-p {target.port} {target.host}" if target.port != 22 else target.host)
    if policy.insecure_accept_any:
        log.warning(
            "SFTP_INSECURE_ACCEPT_UNKNOWN_HOST is set: ACCEPTING %s host key %s %s WITHOUT VERIFICATION "
            "(known_hosts %s). Anyone on the network path could impersonate the server and read the data. "
            "Add the key to known_hosts and unset the variable.",
            "a CHANGED" if known else "an unknown", key.get_name(), _fingerprint(key), policy.known_hosts,
        )
        return
    if known:
        expected = ", ".join(f"{k.get_name()} {_fingerprint(k)}" for k in known.values())
        raise SftpError(
            f"HOST KEY MISMATCH for {name}: the server offered {key.get_name()} {_fingerprint(key)} but "
            f"{policy.known_hosts} expects {expected}. Refusing to connect: this is what a man-in-the-middle "
            f"looks like. If the vendor confirms the server's key changed, replace the {name} line in "
            f"{policy.known_hosts} with the new key (check its fingerprint with the vendor)."
        )
    raise SftpError(
        f"unknown host key for {name}: {key.get_name()} {_fingerprint(key)} is not in {policy.known_hosts}. "
        f"Refusing to connect. Ask the vendor for the server's key fingerprint, then add the key: "
        f"`{keyscan} >> {policy.known_hosts}` and compare `ssh-keygen -lf {policy.known_hosts}` with the "
        f"vendor's fingerprint (or point SFTP_KNOWN_HOSTS at a file holding it). To skip the check, which is "
        f"insecure, set SFTP_INSECURE_ACCEPT_UNKNOWN_HOST=1."
    )


def _load_key(creds: Credentials) -> paramiko.PKey:
    assert creds.key_file is not None
    path = creds.key_file
    if not path.is_file():
        raise SftpError(f"SFTP_KEY_FILE {path} does not exist or is not a file")
    passphrase = creds.key_passphrase.encode() if creds.key_passphrase else None
    try:
        return paramiko.PKey.from_path(str(path), passphrase)
    except paramiko.PasswordRequiredException:
        raise SftpError(f"SFTP_KEY_FILE {path} is encrypted: set SFTP_KEY_PASSPHRASE") from None
    except (paramiko.SSHException, ValueError, TypeError) as e:
        if passphrase is None and ("password" in str(e) or "encrypted" in str(e)):
            raise SftpError(f"SFTP_KEY_FILE {path} is encrypted: set SFTP_KEY_PASSPHRASE") from None
        hint = "wrong SFTP_KEY_PASSPHRASE, or " if creds.key_passphrase else ""
        raise SftpError(
            f"cannot load SFTP_KEY_FILE {path} ({type(e).__name__}): {hint}not an OpenSSH/PEM private key"
        ) from None


@dataclass(frozen=True)
class Login:
    """What every connection of one fetch needs, prepared once: decrypting a key is deliberately slow
    (bcrypt KDF), and known_hosts should be read once per run."""

    target: SftpTarget
    creds: Credentials
    policy: HostKeyPolicy
    known: dict[str, paramiko.PKey]
    pkey: paramiko.PKey | None = field(repr=False)

    @classmethod
    def prepare(cls, target: SftpTarget, creds: Credentials, policy: HostKeyPolicy) -> Login:
        known = {} if policy.insecure_accept_any else _load_known(policy, target)
        pkey = _load_key(creds) if creds.key_file else None
        if pkey is None and not creds.password:
            raise SftpError(
                f"no SFTP credentials for {target.display}: set SFTP_KEY_FILE (and SFTP_KEY_PASSPHRASE "
                f"if the key is encrypted) or SFTP_PASSWORD in the environment"
            )
        return cls(target, creds, policy, known, pkey)


class Connection:
    """One SSH transport with one SFTP channel; each download worker owns one."""

    def __init__(self, login: Login) -> None:
        target, creds, policy, known, pkey = login.target, login.creds, login.policy, login.known, login.pkey
        self.target = target
        self.transport: paramiko.Transport | None = None
        self.sftp: paramiko.SFTPClient | None = None
        try:
            sock = socket.create_connection((target.host, target.port), timeout=CONNECT_TIMEOUT)
        except OSError as e:
            raise ConnectionError(f"cannot connect to {target.host}:{target.port}: {e}") from None
        # SFTP is request/response: without this, Nagle + delayed ACK add ~40 ms to small round trips.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t = paramiko.Transport(sock, default_window_size=WINDOW_SIZE, default_max_packet_size=MAX_PACKET_SIZE)
        self.transport = t
        try:
            opts = t.get_security_options()
            opts.ciphers = [c for c in PREFERRED_CIPHERS if c in opts.ciphers] + [
                c for c in opts.ciphers if c not in PREFERRED_CIPHERS
            ]
            if known:  # ask for the key type we know, so a host with several keys is checked against ours
                first = next(iter(known))
                opts.key_types = [first] + [k for k in opts.key_types if k != first]
            t.start_client(timeout=CONNECT_TIMEOUT)
            _check_host_key(t, target, policy, known)
            self._authenticate(t, creds, pkey)
            self.sftp = paramiko.SFTPClient.from_transport(
                t, window_size=WINDOW_SIZE, max_packet_size=MAX_PACKET_SIZE
            )
            if self.sftp is None:
                raise ConnectionError(f"{target.host}:{target.port} refused the sftp subsystem")
            self.sftp.get_channel().settimeout(IO_TIMEOUT)
            self.read_size = _read_size(t.remote_version or "")
        except BaseException:
            self.close()
            raise

    def _authenticate(self, t: paramiko.Transport, creds: Credentials, pkey: paramiko.PKey | None) -> None:
        """Key first, then password; a server that takes passwords only as keyboard-interactive (PAM)
        gets the password as the answer to its single prompt, as OpenSSH's client would."""
        user, password = self.target.user, creds.password
        attempts: list[tuple[str, Callable[[], object]]] = []
        if pkey is not None:
            attempts.append((f"key {creds.key_file}", lambda: t.auth_publickey(user, pkey)))
        if password:
            attempts.append(("password", lambda: t.auth_password(user, password)))
        tried = []
        for label, attempt in attempts:
            if t.is_authenticated() or not t.is_active():
                break
            tried.append(label)
            try:
                attempt()
            except paramiko.BadAuthenticationType as e:
                log.debug("server refused %s authentication; it allows %s", label, e.allowed_types)
                if label == "password" and password and "keyboard-interactive" in e.allowed_types:
                    tried.append("keyboard-interactive")
                    with suppress(paramiko.SSHException):
                        t.auth_interactive(user, lambda _title, _instr, prompts: [password] * len(prompts))
            except paramiko.SSHException as e:  # AuthenticationException included
                log.debug("%s authentication failed (%s)", label, type(e).__name__)
        if not t.is_authenticated() and not t.is_active():
            # The server went away during authentication: a network problem, worth a retry.
            raise ConnectionError(f"{self.target.host}:{self.target.port} hung up during login")
        if not t.is_authenticated():
            raise SftpError(
                f"authentication failed for user {user!r} on {self.target.host}:{self.target.port} "
                f"(tried {' then '.join(tried)}): check SFTP_KEY_FILE / SFTP_KEY_PASSPHRASE / "
                f"SFTP_PASSWORD and the user name in DATA_PRODUCT"
            )

    def close(self) -> None:
        for thing in (self.sftp, self.transport):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # closing a dead connection may raise anything; nothing to do about it
                    log.debug("error while closing an SFTP connection", exc_info=True)
        self.sftp = None
        self.transport = None

    # ---------- operations
    def lstat(self, path: str) -> paramiko.SFTPAttributes:
        assert self.sftp is not None
        return self.sftp.lstat(path)

    def listdir(self, path: str) -> list[paramiko.SFTPAttributes]:
        """Entries with lstat attributes (OpenSSH's readdir does not follow symlinks)."""
        assert self.sftp is not None
        return self.sftp.listdir_attr(path)

    def download(self, remote: str, size: int, out: Writer, on_bytes: ProgressCallback | None = None) -> int:
        """Stream `remote` into the open binary file `out` with pipelined reads; returns bytes written."""
        assert self.sftp is not None
        written = 0
        with self.sftp.open(remote, "rb", bufsize=0) as fh:
            fh.MAX_REQUEST_SIZE = self.read_size  # instance override read by paramiko's prefetch
            if size > 0:
                _prefetch(fh, 0, size)  # queue every read request now; the server streams within the window
            while True:
                data = fh.read(4 * self.read_size)
                if not data:
                    break
                out.write(data)
                written += len(data)
                if on_bytes is not None:
                    on_bytes(len(data))
                if written > size:  # the file grew while we read: stop, the caller re-lists and retries
                    break
        return written

    def download_range(
        self, remote: str, start: int, length: int, out: Writer, on_bytes: ProgressCallback | None = None
    ) -> int:
        """Bytes `start` .. `start + length` of `remote` into `out`, pipelined like `download`.

        Never reads past the range (paramiko would fall back to one synchronous read per call there), so
        several connections can each fetch their own part of one large file. Returns the bytes written:
        fewer than `length` only if the file ended early (it shrank), which the caller must treat as a
        changed file, not as a network error."""
        assert self.sftp is not None
        written = 0
        with self.sftp.open(remote, "rb", bufsize=0) as fh:
            fh.MAX_REQUEST_SIZE = self.read_size
            fh.seek(start)
            if length > 0:
                _prefetch(fh, start, start + length)
            while written < length:
                # 4 requests per call: measured faster than 1 (more calls) and than 16 (bigger joins).
                data = fh.read(min(4 * self.read_size, length - written))
                if not data:
                    break
                out.write(data)
                written += len(data)
                if on_bytes is not None:
                    on_bytes(len(data))
        return written


# Above this size paramiko's own prefetch thread issues the requests (see _prefetch).
INLINE_PREFETCH_MAX = 4 * 2**30


def _prefetch(fh: paramiko.SFTPFile, start: int, end: int) -> None:
    """`fh.prefetch(end)` from `start` (the file's position), but issuing the read requests from this
    thread.

    paramiko's prefetch() sends the requests from a helper thread; when the connection drops, that thread
    dies with an unhandled-exception traceback on stderr while the reader gets the error anyway. Sending
    them here (small messages, well inside the server's window for files below INLINE_PREFETCH_MAX) lets
    the error reach the retry logic and nothing else. This uses two attributes of paramiko's prefetch
    machinery (paramiko is pinned); if they are ever gone, the public prefetch() is used.
    """
    issue = getattr(fh, "_prefetch_thread", None)
    step = fh.MAX_REQUEST_SIZE
    chunks = [(off, min(step, end - off)) for off in range(start, end, step)]
    if issue is None or not hasattr(fh, "_prefetching") or end - start > INLINE_PREFETCH_MAX:
        fh.prefetch(end)  # from the current position, which the caller has set to `start`
        return
    fh._prefetching = True
    fh._prefetch_done = False
    issue(chunks, None)


def _read_size(remote_version: str) -> int:
    override = os.environ.get("SFTP_READ_SIZE", "").strip()
    if override.isdigit():
        return max(4096, min(int(override), READ_SIZE_OPENSSH_NEW))
    m = re.search(r"OpenSSH_(\d+)\.(\d+)", remote_version)
    if not m:
        return READ_SIZE_SAFE
    return READ_SIZE_OPENSSH_NEW if (int(m.group(1)), int(m.group(2))) >= (8, 6) else READ_SIZE_OPENSSH_OLD


def kind(attrs: paramiko.SFTPAttributes) -> str:
    """`file`, `dir`, `symlink` or `other`, from lstat attributes."""
    mode = attrs.st_mode or 0
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    return "other"


# Errors worth a reconnect and retry: the network or the server went away, or a file changed under us.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    paramiko.SSHException,
    paramiko.SFTPError,
    socket.timeout,
)
