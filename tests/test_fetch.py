"""extract.fetch against a real OpenSSH sshd on 127.0.0.1 (tests/_sshd.py), plus the local-folder path.

The server serves copies of tests/fixtures/example_product; each test builds its own tree under the
server's folder so tests do not see each other's changes.
"""

from __future__ import annotations

import filecmp
import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from _sshd import Sshd, running_sshd

from extract import contract, sftp
from extract import fetch as fetch_module
from extract.fetch import FetchError, FetchOptions, _unsafe_reason, fetch, inside
from pipeline.config import Settings

EXAMPLE = Path(__file__).parent / "fixtures" / "example_product"
FAST = FetchOptions(workers=3, attempts=5, backoff_base=0.05, backoff_max=0.2, show_progress=False)


@pytest.fixture(scope="module")
def sshd() -> Iterator[Sshd]:
    with running_sshd() as server:
        yield server


@pytest.fixture
def product(sshd: Sshd, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A fresh copy of the example product on the server, named after the test."""
    dest = sshd.root / request.node.name.replace("[", "_").replace("]", "_")
    shutil.copytree(EXAMPLE, dest)
    yield dest
    shutil.rmtree(dest, ignore_errors=True)


@pytest.fixture
def key_env(sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Key auth, host key known: the normal production setup."""
    for name in ("SFTP_PASSWORD", "SFTP_KEY_PASSPHRASE", "SFTP_INSECURE_ACCEPT_UNKNOWN_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SFTP_KNOWN_HOSTS", str(sshd.write_known_hosts(tmp_path / "known_hosts")))
    # The unencrypted key: decrypting the other one (bcrypt KDF) costs CPU on every run; the encrypted
    # key is exercised by the tests that need it.
    monkeypatch.setenv("SFTP_KEY_FILE", str(sshd.plain_key))
    return settings_for(tmp_path, {})


def settings_for(tmp_path: Path, secrets: dict[str, str]) -> Settings:
    return Settings(
        data_product=None,
        warehouse=tmp_path / "wh.duckdb",
        edfi_output=tmp_path / "edfi",
        landing=tmp_path / "landing",
        district_id=None,
        school_years=None,
        secrets=secrets,
    )


def csv_files(folder: Path) -> dict[str, Path]:
    return {f"{p.parent.name}/{p.name}": p for p in folder.glob("*/*.csv")}


def assert_same_tree(local: Path, remote: Path) -> None:
    want, got = csv_files(remote), csv_files(local)
    assert sorted(got) == sorted(want)
    for rel, src in want.items():
        assert filecmp.cmp(src, got[rel], shallow=False), rel
        assert int(got[rel].stat().st_mtime) == int(src.stat().st_mtime), rel


def no_part_files(landing: Path) -> list[Path]:
    return [p for p in landing.rglob("*") if ".part-" in p.name]


# ---------------------------------------------------------------------------------------------- happy path
def test_key_auth_full_download_then_skip_then_changed(
    sshd: Sshd, product: Path, key_env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SFTP_KEY_FILE", str(sshd.user_key))  # the passphrase-protected key
    key_env = settings_for(tmp_path, {"SFTP_KEY_PASSPHRASE": sshd.user_key_passphrase})
    landing = key_env.landing
    first = fetch(sshd.url(product), landing, key_env, FAST)
    n = len(csv_files(product))
    assert n == 87
    assert first.downloaded == n and first.skipped == 0
    assert first.product_dir == (landing / f"127.0.0.1_{sshd.port}" / product.relative_to("/")).resolve()
    assert_same_tree(first.product_dir, product)

    second = fetch(sshd.url(product), landing, key_env, FAST)
    assert (second.downloaded, second.skipped) == (0, n)

    # A re-delivered file (new size and mtime) is fetched again, and only that one.
    changed = product / "users" / "users.csv"
    with open(changed, "a", encoding="utf-8") as fh:
        fh.write("\n")
    os.utime(changed, (1_800_000_000, 1_800_000_000))
    # A local copy that went missing is fetched again although the server's file did not change.
    (first.product_dir / "groups" / "groups.roles.csv").unlink()
    # An optional group the vendor no longer delivers disappears from the mirror too.
    shutil.rmtree(product / "goals")
    third = fetch(sshd.url(product), landing, key_env, FAST)
    assert third.downloaded == 2
    assert third.skipped == n - 8 - 2
    assert_same_tree(third.product_dir, product)
    assert not (third.product_dir / "goals").exists()
    assert no_part_files(landing) == []


def test_password_auth_and_no_secret_in_logs(
    sshd: Sshd, product: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)  # paramiko's own debug log included
    monkeypatch.delenv("SFTP_KEY_FILE", raising=False)
    monkeypatch.setenv("SFTP_KNOWN_HOSTS", str(sshd.write_known_hosts(tmp_path / "known_hosts")))
    settings = settings_for(tmp_path, {"SFTP_PASSWORD": sshd.password})
    result = fetch(sshd.url(product), settings.landing, settings, FAST)
    assert_same_tree(result.product_dir, product)

    wrong = settings_for(tmp_path, {"SFTP_PASSWORD": "not-" + sshd.password})
    with pytest.raises(FetchError, match="authentication failed") as err:
        fetch(sshd.url(product), wrong.landing, wrong, FAST)
    out = capsys.readouterr()
    for text in (caplog.text, out.out, out.err, str(err.value), repr(err.value), repr(settings)):
        assert sshd.password not in text
    assert "password" in str(err.value)  # says what was tried, not what it was

    # A key the server does not accept: the password is tried next.
    stranger = tmp_path / "stranger_key"
    keygen = ["ssh-keygen", "-q", "-t", "ed25519", "-N", ""]
    subprocess.run([*keygen, "-f", str(stranger)], check=True, timeout=30)
    monkeypatch.setenv("SFTP_KEY_FILE", str(stranger))
    again = fetch(sshd.url(product), tmp_path / "landing2", settings, FAST)
    assert again.downloaded == 87
    with pytest.raises(FetchError, match=r"tried key .*stranger_key then password"):
        fetch(sshd.url(product), tmp_path / "landing3", wrong, FAST)


def test_key_with_wrong_passphrase_is_a_clear_error_without_the_secret(
    sshd: Sshd, product: Path, key_env: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("SFTP_KEY_FILE", str(sshd.user_key))
    bad = settings_for(tmp_path, {"SFTP_KEY_PASSPHRASE": "wrong-passphrase-xyzzy"})
    with pytest.raises(FetchError, match="SFTP_KEY_FILE") as err:
        fetch(sshd.url(product), bad.landing, bad, FAST)
    assert "wrong-passphrase-xyzzy" not in str(err.value) + caplog.text
    none = settings_for(tmp_path, {})
    with pytest.raises(FetchError, match="set SFTP_KEY_PASSPHRASE"):
        fetch(sshd.url(product), none.landing, none, FAST)


def test_password_in_url_is_refused_without_echoing_it(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, {})
    with pytest.raises(FetchError, match="SFTP_PASSWORD") as err:
        fetch("sftp://bob:hunter2secret@127.0.0.1:2222/x", tmp_path / "landing", settings, FAST)
    assert "hunter2secret" not in str(err.value)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sftp://127.0.0.1/x", "has no user name"),
        ("sftp://bob@/x", "has no host"),
        ("sftp://bob@127.0.0.1:99999/x", "invalid port"),
        ("sftp://bob@127.0.0.1/data/../etc", "may not contain `..`"),
    ],
)
def test_malformed_sftp_urls_are_clear_errors(tmp_path: Path, url: str, message: str) -> None:
    with pytest.raises(FetchError, match=message):
        fetch(url, tmp_path / "landing", settings_for(tmp_path, {}), FAST)


def test_no_credentials_is_a_clear_error(
    sshd: Sshd, product: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SFTP_KEY_FILE", "SFTP_PASSWORD", "SFTP_KEY_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SFTP_KNOWN_HOSTS", str(sshd.write_known_hosts(tmp_path / "known_hosts")))
    with pytest.raises(FetchError, match="set SFTP_KEY_FILE .* or SFTP_PASSWORD"):
        fetch(sshd.url(product), tmp_path / "landing", settings_for(tmp_path, {}), FAST)


# ---------------------------------------------------------------------------------------------- host keys
def test_unknown_host_is_refused_by_default(
    sshd: Sshd, product: Path, key_env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    monkeypatch.setenv("SFTP_KNOWN_HOSTS", str(empty))
    with pytest.raises(FetchError, match=r"unknown host key for \[127.0.0.1\]:\d+") as err:
        fetch(sshd.url(product), key_env.landing, key_env, FAST)
    assert "SFTP_INSECURE_ACCEPT_UNKNOWN_HOST=1" in str(err.value)
    assert csv_files(key_env.landing / f"127.0.0.1_{sshd.port}" / product.relative_to("/")) == {}

    # Explicit opt-out: accepted, with a loud warning.
    monkeypatch.setenv("SFTP_INSECURE_ACCEPT_UNKNOWN_HOST", "1")
    caplog.set_level(logging.WARNING)
    result = fetch(sshd.url(product), key_env.landing, key_env, FAST)
    assert_same_tree(result.product_dir, product)
    assert "WITHOUT VERIFICATION" in caplog.text


def test_hashed_known_hosts_entries_are_understood(
    sshd: Sshd, product: Path, key_env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kh = sshd.write_known_hosts(tmp_path / "hashed_known_hosts")
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(kh)], check=True, timeout=30, capture_output=True)
    assert "127.0.0.1" not in kh.read_text() and kh.read_text().startswith("|1|")
    monkeypatch.setenv("SFTP_KNOWN_HOSTS", str(kh))
    result = fetch(sshd.url(product), key_env.landing, key_env, FAST)
    assert result.downloaded == 87


def test_changed_host_key_is_refused(
    sshd: Sshd, product: Path, key_env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other_host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True, timeout=30)
    kt, b64 = (tmp_path / "other_host_key.pub").read_text().split()[:2]
    kh = tmp_path / "mismatch_known_hosts"
    kh.write_text(f"[127.0.0.1]:{sshd.port} {kt} {b64}\n")
    monkeypatch.setenv("SFTP_KNOWN_HOSTS", str(kh))
    with pytest.raises(FetchError, match=r"HOST KEY MISMATCH for \[127.0.0.1\]:\d+"):
        fetch(sshd.url(product), key_env.landing, key_env, FAST)
    assert not key_env.landing.exists() or csv_files(key_env.landing) == {}


# ---------------------------------------------------------------------------------------------- layout
def test_missing_required_group_and_file_are_named(sshd: Sshd, product: Path, key_env: Settings) -> None:
    shutil.rmtree(product / "users")
    (product / "groups" / "groups.roles.csv").unlink()
    with pytest.raises(FetchError) as err:
        fetch(sshd.url(product), key_env.landing, key_env, FAST)
    msg = str(err.value)
    assert "`users/` is missing" in msg and "`groups/groups.roles.csv` is missing" in msg
    assert f"127.0.0.1:{sshd.port}" in msg and str(product) in msg


def test_optional_groups_and_deep_rubric_files_may_be_absent(
    sshd: Sshd, product: Path, key_env: Settings
) -> None:
    for g in contract.OPTIONAL_GROUPS:
        shutil.rmtree(product / g)
    for t in contract.OPTIONAL_TABLES:
        (product / "rubrics" / f"{t}.csv").unlink()
    result = fetch(sshd.url(product), key_env.landing, key_env, FAST)
    assert result.downloaded == 60
    assert_same_tree(result.product_dir, product)


def test_local_folder_is_validated_and_used_in_place(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, {})
    result = fetch(str(EXAMPLE), tmp_path / "landing", settings)
    assert result.product_dir == EXAMPLE.resolve() and result.downloaded == 0
    assert not (tmp_path / "landing").exists()
    broken = tmp_path / "broken"
    shutil.copytree(EXAMPLE, broken)
    shutil.rmtree(broken / "observations")
    (broken / "rubrics" / "rubrics.indicators.indicators.csv").unlink()
    shutil.rmtree(broken / "slos")  # optional: not reported
    with pytest.raises(FetchError) as err:
        fetch(str(broken), tmp_path / "landing", settings)
    msg = str(err.value)
    assert "`observations/` is missing" in msg
    assert "`rubrics/rubrics.indicators.indicators.csv` is missing" in msg
    assert "slos" not in msg.split("Optional groups")[0]
    with pytest.raises(FetchError, match="is not a folder"):
        fetch(str(tmp_path / "nope"), tmp_path / "landing", settings)


# ------------------------------------------------------------------------------------------- hostile server
def test_hostile_names_never_escape_the_landing_folder(
    sshd: Sshd, product: Path, key_env: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    users = product / "users"
    (users / "users.passwd.csv").symlink_to("/etc/passwd")
    (users / "users.passwd2.csv").symlink_to("../../../../../../etc/passwd")
    (product / "artifacts.csv").symlink_to("/etc/passwd")
    (users / "users.x;rm -rf ~.csv").write_text("a\n")
    (users / "users.\"quoted'.csv").write_text("a\n")
    (users / "..\\..\\evil.csv").write_text("a\n")
    (users / "users.new\nline.csv").write_text("a\n")
    (users / ".hidden.csv").write_text("a\n")
    (users / "users.drift.csv").write_text("_rootId,_parentId,_index,value\n")  # safe unknown: fetched
    os.mkfifo(users / "users.fifo.csv")
    shutil.rmtree(product / "goals")
    (product / "goals").symlink_to("/etc")  # a group folder that is a symlink: not followed
    landing = key_env.landing
    result = fetch(sshd.url(product), landing, key_env, FAST)

    base = landing.resolve()
    for p in landing.rglob("*"):
        assert p.resolve().is_relative_to(base)
        assert not p.is_symlink()
        assert ";" not in p.name and '"' not in p.name and "\\" not in p.name and "\n" not in p.name
        if p.is_file():
            assert b"root:x:0:0" not in p.read_bytes()
    got = csv_files(result.product_dir)
    assert "users/users.drift.csv" in got
    assert "users/users.passwd.csv" not in got and "goals/goals.csv" not in got
    assert not (result.product_dir / "goals").exists()
    ignored = "\n".join(result.ignored)
    for needle in ("users.passwd.csv", "symlink", "unsafe file name", "'goals'", "fifo"):
        assert needle in ignored
    assert "symlinks are never followed" in caplog.text


def test_name_filter_rejects_traversal_and_separators(tmp_path: Path) -> None:
    for name in ("../x.csv", "/etc/passwd", "a/b.csv", "..\\x.csv", "x\x00.csv", "..", ".", "", "~x.csv",
                 "x.csv;rm", 'a"b.csv', "x.txt"):
        assert _unsafe_reason(name) is not None, name
    assert _unsafe_reason("observations.work.steps.csv") is None
    base = tmp_path / "land"
    base.mkdir()
    with pytest.raises(FetchError, match="outside"):
        inside(base, base / ".." / "x.csv")
    (base / "link").symlink_to("/etc")
    with pytest.raises(FetchError, match="outside"):
        inside(base, base / "link" / "passwd")


# ---------------------------------------------------------------------------------------------- dropped links
BIG = 16 * 2**20


def _add_big_file(product: Path) -> Path:
    big = product / "observations" / "observations.work.csv"
    with open(big, "wb") as fh:
        fh.write(os.urandom(BIG))
    return big


class _FinalNameWatch:
    """Polls the final name of a file while the fetch runs: it must never exist with a partial size."""

    def __init__(self, final: Path, size: int) -> None:
        self.final, self.size, self.bad = final, size, []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.002):
            try:
                n = self.final.stat().st_size
            except FileNotFoundError:
                continue
            if n != self.size:
                self.bad.append(n)

    def __enter__(self) -> _FinalNameWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


# Small enough that the 16 MB test file is fetched as two ranges by two workers at once (large enough that a
# range is still being received when the test cuts the connections).
RANGED = {"range_threshold": 8 * 2**20, "range_size": 8 * 2**20}
# The client's SSH channel window in the cut tests. The fetcher's own (32 MB) lets the server send a whole
# range before the client has read any of it, so a cut at the first progress report could find every byte
# already in the client's buffers and nothing to retry. With 1 MB the server waits for the client to read:
# the thread that reports progress (and cuts) always has bytes still to come.
CUT_WINDOW = 2**20


@pytest.mark.parametrize(
    ("cut", "ranged"), [("kill_sessions", False), ("restart_sshd", False), ("kill_sessions", True)]
)
def test_connection_cut_mid_transfer_is_retried(
    sshd: Sshd, product: Path, key_env: Settings, cut: str, ranged: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sftp, "WINDOW_SIZE", CUT_WINDOW)
    big = _add_big_file(product)
    landing = key_env.landing
    final = landing / f"127.0.0.1_{sshd.port}" / product.relative_to("/") / "observations" / big.name
    cuts: list[int] = []
    final_at_cut: list[bool] = []
    once = threading.Lock()  # ranges report progress from several threads at once: cut once only

    def on_progress(rel: str, done: int, size: int) -> None:
        # Ranged: cut at the first report, while both ranges have most of their bytes to come.
        if rel == "observations/observations.work.csv" and done > (0 if ranged else size // 3) \
                and once.acquire(False):
            final_at_cut.append(final.exists())
            cuts.append(sshd.kill_sessions() if cut == "kill_sessions" else (sshd.restart() or 1))

    opts = FetchOptions(workers=3, attempts=5, backoff_base=0.1, backoff_max=0.5, show_progress=False,
                        on_progress=on_progress, **(RANGED if ranged else {}))
    with _FinalNameWatch(final, BIG) as watch:
        result = fetch(sshd.url(product), landing, key_env, opts)
    assert cuts and cuts[0] >= 1 and final_at_cut == [False]
    assert result.retries >= 1  # ranged: the ranges in flight lost their connections, retried on their own
    assert watch.bad == []
    assert_same_tree(result.product_dir, product)
    assert no_part_files(landing) == []


@pytest.mark.parametrize("ranged", [False, True])
def test_server_gone_for_good_fails_clearly_and_leaves_no_partial_file(
    sshd: Sshd, product: Path, key_env: Settings, ranged: bool
) -> None:
    big = _add_big_file(product)
    landing = key_env.landing
    final = landing / f"127.0.0.1_{sshd.port}" / product.relative_to("/") / "observations" / big.name
    port = sshd.port
    once = threading.Lock()

    def on_progress(rel: str, done: int, size: int) -> None:
        if rel == "observations/observations.work.csv" and done > size // 3 and once.acquire(False):
            sshd.stop_server()

    opts = FetchOptions(workers=2, attempts=3, backoff_base=0.05, backoff_max=0.1, show_progress=False,
                        on_progress=on_progress, **(RANGED if ranged else {}))
    try:
        with pytest.raises(FetchError, match=rf"failed 3 times on 127.0.0.1:{port}") as err:
            fetch(sshd.url(product), landing, key_env, opts)
        assert "run again" in str(err.value)
        # Ranges already buffered by the client may complete the big file before the end; if its final
        # name exists, it holds the whole file (never a part).
        assert not final.exists() or filecmp.cmp(final, big, shallow=False)
        assert no_part_files(landing) == []
        assert not list((landing / ".fetch-state").glob("*.json"))  # only a successful run records state
    finally:
        if sshd.proc is None:
            sshd.start(port=port)
    # Back online: the next run completes.
    result = fetch(sshd.url(product), landing, key_env, FAST)
    assert_same_tree(result.product_dir, product)


def test_a_file_replaced_during_a_ranged_download_is_fetched_again_whole(
    sshd: Sshd, product: Path, key_env: Settings
) -> None:
    """The ranges already read belong to the old version: mixing them with the new one would be a corrupt
    file of the right size. The ranges that see the change stop, and the file is fetched again whole."""
    big = _add_big_file(product)
    replaced: list[bool] = []
    once = threading.Lock()

    def on_progress(rel: str, done: int, size: int) -> None:
        if rel == "observations/observations.work.csv" and done > size // 4 and once.acquire(False):
            replaced.append(True)
            new = big.with_name("new.tmp")
            new.write_bytes(os.urandom(BIG + 4096))
            os.utime(new, (1_800_000_000, 1_800_000_000))
            new.rename(big)  # readers of the old version keep their open handle: a real mid-run change

    opts = FetchOptions(workers=3, attempts=3, backoff_base=0.05, backoff_max=0.1, show_progress=False,
                        on_progress=on_progress, **RANGED)
    result = fetch(sshd.url(product), key_env.landing, key_env, opts)
    assert replaced
    assert_same_tree(result.product_dir, product)
    assert (result.product_dir / "observations" / big.name).stat().st_size == BIG + 4096
    assert no_part_files(key_env.landing) == []


@pytest.mark.parametrize("ranged", [False, True], ids=["whole", "ranged"])
def test_a_file_removed_between_listing_and_reading_stops_the_run_clearly(
    sshd: Sshd,
    product: Path,
    key_env: Settings,
    ranged: bool,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The vendor removes a file after our listing: retrying cannot bring it back, and loading the rest
    would mix two deliveries. The run stops at once naming the file; nothing partial is left."""
    caplog.set_level(logging.WARNING)
    big = _add_big_file(product)
    saved = big.read_bytes()
    landing = key_env.landing
    final = landing / f"127.0.0.1_{sshd.port}" / product.relative_to("/") / "observations" / big.name
    listed = fetch_module._Fetcher.list_remote
    removed: list[int] = []

    def list_then_remove(self: fetch_module._Fetcher) -> list[fetch_module.RemoteFile]:
        files = listed(self)
        if not removed:  # only the first run's listing is followed by the removal
            removed.append(len(files))
            big.unlink()
        return files

    monkeypatch.setattr(fetch_module._Fetcher, "list_remote", list_then_remove)
    opts = FetchOptions(workers=2, attempts=5, backoff_base=0.05, backoff_max=0.1, show_progress=False,
                        **(RANGED if ranged else {"range_threshold": 2**40}))
    with pytest.raises(FetchError, match=r"observations/observations\.work\.csv.*no longer has it") as err:
        fetch(sshd.url(product), landing, key_env, opts)
    assert removed == [87] and "run again" in str(err.value)
    assert "reconnecting" not in caplog.text  # permanent: no retries
    assert not final.exists()
    assert no_part_files(landing) == []
    assert not list((landing / ".fetch-state").glob("*.json"))  # only a successful run records state
    # The vendor finishes the delivery: the next run fetches the whole tree.
    big.write_bytes(saved)
    result = fetch(sshd.url(product), landing, key_env, opts)
    assert_same_tree(result.product_dir, product)


def test_a_second_fetch_of_the_same_mirror_at_the_same_time_is_refused(
    sshd: Sshd, product: Path, key_env: Settings
) -> None:
    seen: list[str] = []
    once = threading.Lock()

    def on_progress(rel: str, done: int, size: int) -> None:
        if once.acquire(blocking=False):  # the first progress report of either worker, only
            try:
                fetch(sshd.url(product), key_env.landing, key_env, FAST)
                seen.append("second fetch ran")
            except FetchError as e:
                seen.append(str(e))

    opts = FetchOptions(workers=2, backoff_base=0.05, show_progress=False, on_progress=on_progress)
    result = fetch(sshd.url(product), key_env.landing, key_env, opts)
    assert len(seen) == 1 and "another run is already fetching" in seen[0]
    assert f"process {os.getpid()}" in seen[0]
    assert_same_tree(result.product_dir, product)
    assert fetch(sshd.url(product), key_env.landing, key_env, FAST).skipped == 87  # the lock was released


def test_a_local_write_error_stops_at_once_naming_the_path(
    sshd: Sshd, product: Path, key_env: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Reconnecting cannot fix the local disk: no retries, and the message points at LANDING_DIR."""
    caplog.set_level(logging.WARNING)
    mirror = key_env.landing / f"127.0.0.1_{sshd.port}" / product.relative_to("/")
    mirror.mkdir(parents=True)
    (mirror / "users").write_text("a file where the users/ folder must go\n")
    with pytest.raises(FetchError, match=r"cannot write .*users.*LANDING_DIR"):
        fetch(sshd.url(product), key_env.landing, key_env, FAST)
    assert "reconnecting" not in caplog.text
    assert no_part_files(key_env.landing) == []
