"""Faults a production run meets, injected into real components on loopback.

Each test runs the pipeline as a child process (`python -m pipeline extract|build`) so that a SIGKILL, a
full disk or a held lock hits a real process, then inspects the warehouse as the next reader would. Where
rows are involved, every test ends with `assert_rows_reconcile`: rows in raw + rows rejected = records in
the files (rows lost = 0) and no row twice.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import time
from pathlib import Path

import duckdb
import pytest
from _faults import (
    EXAMPLE_PRODUCT,
    PROJECT_ROOT,
    Run,
    assert_clear_error,
    assert_ok,
    assert_rows_reconcile,
    connect_ro,
    copy_product,
    dbt_dir_of,
    dbt_log_of,
    digests,
    duckdb_holder,
    file_size,
    hostile_sftp_server,
    log_of,
    pad_table,
    pipeline_env,
    raw_state,
    run,
    sha256_file,
    small_filesystem,
    warehouse_of,
)
from _sshd import Sshd, running_sshd

from extract import contract

pytestmark = pytest.mark.timeout(300)

CONTRACT_FILES = {t.relative_path for t in contract.tables()}
RAW_META_TABLES = {"_loads", "_rejects", "_drift", "_load_failures"}
HOSTILE_COLUMNS = ["x'); drop table raw.users; --", 'q";drop table raw.groups;--']


@pytest.fixture
def sshd() -> Sshd:
    with running_sshd() as server:
        yield server


def sftp_env(run_dir: Path, server: Sshd, remote: Path) -> dict[str, str]:
    known = server.write_known_hosts(run_dir.parent / f"{run_dir.name}.known_hosts")
    return pipeline_env(
        run_dir,
        server.url(remote),
        SFTP_KEY_FILE=str(server.user_key),
        SFTP_KEY_PASSPHRASE=server.user_key_passphrase,
        SFTP_KNOWN_HOSTS=str(known),
    )


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.exists() else 0


def landed_contract_files(landing: Path) -> dict[str, Path]:
    """{contract relative path: file} for the files in the landing folder under their final names."""
    out = {}
    for p in landing.rglob("*.csv"):
        rel = "/".join(p.parts[-2:])
        if rel in CONTRACT_FILES:
            out[rel] = p
    return out


# ---------------------------------------------------------------------------------------------------- SFTP
def test_sftp_server_stopped_mid_download_and_restarted(tmp_path: Path, sshd: Sshd) -> None:
    """The server goes away mid-file and comes back: the run resumes or fails cleanly; nothing half-done
    is ever under a final name or in raw; the next run lands everything."""
    remote = copy_product(sshd.root / "product")
    run_dir = tmp_path / "run"
    env = sftp_env(run_dir, sshd, remote)
    landing, warehouse = Path(env["LANDING_DIR"]), warehouse_of(env)

    assert_ok(*run("extract", env, timeout=120))
    assert_rows_reconcile(remote, warehouse)
    good = raw_state(warehouse)
    v1 = digests(remote)

    pad_table(remote, megabytes=30)  # a re-delivery with one large file: seconds to download
    v2 = digests(remote)
    before = tree_bytes(landing)
    r = Run("extract", env)
    deadline = time.monotonic() + 120
    while tree_bytes(landing) < before + 5_000_000 and r.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    caught = r.proc.poll() is None and tree_bytes(landing) >= before + 5_000_000
    sshd.stop_server()  # listener and every session: the server is gone
    down = {rel: sha256_file(p) for rel, p in landed_contract_files(landing).items()}  # while it is down
    time.sleep(1.0)
    sshd.start(port=sshd.port)  # back, same port and host key
    rc = r.finish(timeout=240)
    assert caught, f"the download was not caught mid-way (exit {rc}):\n{r.output[-3000:]}"

    after = {rel: sha256_file(p) for rel, p in landed_contract_files(landing).items()}
    for rel, digest in [*down.items(), *after.items()]:
        assert digest in (v1.get(rel), v2.get(rel)), f"{rel}: a partial or foreign file under its final name"
    print(f"interrupted run: exit {rc}; last lines:\n{r.output[-600:]}")
    if rc == 0:
        assert_rows_reconcile(remote, warehouse)  # it resumed
    else:
        assert_clear_error(rc, r.output, r"sftp|ssh|connect|server|download")
        assert raw_state(warehouse) == good, "a failed download changed the raw layer"

    assert_ok(*run("extract", env, timeout=240))
    lost = assert_rows_reconcile(remote, warehouse)
    assert sum(lost.values()) == 0
    landed = landed_contract_files(landing)
    assert set(landed) == set(v2) & CONTRACT_FILES, "the landing folder lacks files of the delivery"
    assert {rel: sha256_file(p) for rel, p in landed.items()} == {rel: v2[rel] for rel in landed}, (
        "the landing folder does not mirror the re-delivery"
    )


def _write_hostile_tree(remote: Path, outside: Path) -> None:
    """Names a hostile or careless vendor server can really serve (a real file system cannot hold `/` in a
    name, so `../x.csv` and absolute names come as symlinks and dot names here)."""
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret.csv").write_text("_id\nshould-never-be-fetched\n")
    users = remote / "users"
    for name in (
        "users.csv'; drop table raw.users; --.csv",
        'a"b;c.csv',
        "..x.csv",
        "$(touch pwned).csv",
        "users.roles.csv\nusers.csv",
    ):
        (users / name).write_text("_id\n1\n")
    (remote / "x; drop schema raw cascade; .csv").write_text("_id\n1\n")
    (remote / "evil'dir").mkdir()
    (remote / "evil'dir" / "users.csv").write_text("_id\n1\n")
    (users / "link_to_root").symlink_to("/")
    (users / "loop").symlink_to(".")
    (users / "outside.csv").symlink_to(outside / "secret.csv")
    (remote / "escape").symlink_to(outside)
    # A header that would break out of a quoted SQL literal or identifier if a loader pasted it in.
    path = users / "users.csv"
    raw = path.read_bytes()
    nl = "\r\n" if b"\r\n" in raw.split(b"\n", 1)[0] + b"\n" else "\n"
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    rows[0] += HOSTILE_COLUMNS
    rows[1:] = [row + [""] * len(HOSTILE_COLUMNS) for row in rows[1:] if row]
    with open(
        path, "w", newline="", encoding="utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
    ) as fh:
        csv.writer(fh, lineterminator=nl).writerows(rows)


def test_hostile_names_on_the_server_cannot_escape_or_inject(tmp_path: Path, sshd: Sshd) -> None:
    remote = copy_product(sshd.root / "product")
    _write_hostile_tree(remote, sshd.root / "outside")
    jail = tmp_path / "jail"
    run_dir = tmp_path / "run"
    env = sftp_env(run_dir, sshd, remote)
    env["LANDING_DIR"] = str(jail / "landing")
    warehouse = warehouse_of(env)
    t0 = time.monotonic()
    rc, out = run("extract", env, timeout=180)
    assert time.monotonic() - t0 < 170, "the fetch did not terminate (symlink loop or a link to /?)"

    landing = jail / "landing"
    assert sorted(p.name for p in jail.iterdir()) == ["landing"], "something was written beside the landing"
    assert not (PROJECT_ROOT / "pwned").exists(), "a file name was run by a shell"
    for p in landing.rglob("*"):
        assert not p.is_symlink(), f"a symlink was created in the landing folder: {p}"
        assert p.resolve().is_relative_to(landing.resolve()), f"{p} resolves outside the landing folder"
        if p.is_file():
            assert "should-never-be-fetched" not in p.read_text(errors="replace"), f"{p}: fetched via symlink"
    assert tree_bytes(landing) < 5 * tree_bytes(remote) + 1_000_000, "far more was fetched than the product"

    if rc != 0:  # refusing the delivery is fine, for the hostile names' sake and saying so
        assert_clear_error(rc, out, r"unsafe|drop table|symlink|users\.csv")
        return
    con = connect_ro(warehouse)
    try:
        raw_tables = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
        }
        users_cols = [
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'raw' and table_name = 'users' order by ordinal_position"
            ).fetchall()
        ]
        schemas = {
            r[0] for r in con.execute("select schema_name from information_schema.schemata").fetchall()
        }
    finally:
        con.close()
    keys = {t.key for t in contract.tables()}
    assert "raw" in schemas
    assert keys <= raw_tables, f"contract tables missing (dropped?): {sorted(keys - raw_tables)}"
    assert raw_tables <= keys | RAW_META_TABLES, f"unexpected raw tables: {sorted(raw_tables - keys)}"
    for hostile in HOSTILE_COLUMNS:
        assert hostile in users_cols, f"drift column {hostile!r} not kept verbatim: {users_cols}"
    assert_rows_reconcile(landed_product(landing), warehouse)


def test_hostile_listing_with_dotdot_and_absolute_names_cannot_escape(tmp_path: Path) -> None:
    """Names only a hostile server can send: `../x.csv`, absolute paths, `..`, `a/../../b.csv`."""
    abs_target = tmp_path / "abs" / "abs.csv"
    abs_target.parent.mkdir()
    extra = {
        "/product": ["../escaped.csv", str(abs_target), "users/../../dotdot.csv", ".."],
        "/product/users": [
            "../../x.csv",
            "..",
            ".",
            f"/{abs_target.parent.name}/rooted.csv",
            "users.csv/../x.csv",
        ],
        "/product/groups": ["../../../../../../tmp/edreflect-escape-check.csv"],
    }
    jail = tmp_path / "jail"
    with hostile_sftp_server(EXAMPLE_PRODUCT, tmp_path / "server", extra) as server:
        env = pipeline_env(
            tmp_path / "run",
            server.url,
            LANDING_DIR=str(jail / "landing"),
            SFTP_KEY_FILE=str(server.key_file),
            SFTP_KNOWN_HOSTS=str(server.known_hosts),
        )
        rc, out = run("extract", env, timeout=120)
    assert not abs_target.exists(), "an absolute name from the server was written on this machine"
    assert not Path("/tmp/edreflect-escape-check.csv").exists(), "a ../ name escaped to /tmp"
    assert sorted(p.name for p in jail.iterdir()) == ["landing"], "something was written beside the landing"
    written = {p.name for p in tmp_path.rglob("*.csv") if not p.is_relative_to(tmp_path / "server")}
    assert not written & {"escaped.csv", "dotdot.csv", "x.csv", "rooted.csv"}, (
        f"hostile names landed: {written}"
    )
    for p in (jail / "landing").rglob("*"):
        assert p.resolve().is_relative_to((jail / "landing").resolve()), f"{p} resolves outside the landing"
        if p.is_file():
            assert b"hostile" not in p.read_bytes(), f"{p}: a hostile file was fetched"
    if rc != 0:  # refusing the delivery is fine, for the hostile names' sake and saying so
        assert_clear_error(rc, out, r"\.\./|abs\.csv|unsafe")
        return
    assert sum(assert_rows_reconcile(EXAMPLE_PRODUCT, warehouse_of(env)).values()) == 0


def landed_product(landing: Path) -> Path:
    users = next(p for p in landing.rglob("users.csv") if p.parent.name == "users")
    return users.parent.parent


# ---------------------------------------------------------------------------------------------- disk full
def test_disk_full_gives_a_clear_error_and_keeps_the_warehouse(tmp_path: Path) -> None:
    product = copy_product(tmp_path / "product")
    run_dir = tmp_path / "run"
    env = pipeline_env(run_dir, product)
    warehouse = warehouse_of(env)
    # A run needs room for four files at its publish (live, new, their read-only snapshots): about 4 x 20 MB
    # for the example product (DuckDB gives each of its 87 tables whole blocks)
    with small_filesystem(warehouse.parent, size_mb=128) as cap:
        assert_ok(*run("extract", env, timeout=120, preexec_fn=cap))
        assert_rows_reconcile(product, warehouse)
        good = raw_state(warehouse)

        pad_table(product, megabytes=200)  # more than the small disk can take
        rc, out = run("extract", env, timeout=180, preexec_fn=cap)
        assert rc != 0, out[-3000:]
        assert raw_state(warehouse) == good, "the failed run changed the raw layer"

        shutil.rmtree(product)
        copy_product(product)  # space again: the next run succeeds
        assert_ok(*run("extract", env, timeout=120, preexec_fn=cap))
        assert sum(assert_rows_reconcile(product, warehouse).values()) == 0
    # last, so that a poor message does not hide how the warehouse fared
    assert_clear_error(rc, out, r"no space left|file too large|disk (is )?full|out of (disk )?space")


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_unreadable_file_gives_a_clear_error_and_keeps_the_warehouse(tmp_path: Path, kind: str) -> None:
    """Root reads through chmod 000, so the file is made unreadable by what it is: a folder or a FIFO
    (which would block a naive open() forever)."""
    product = copy_product(tmp_path / "product")
    env = pipeline_env(tmp_path / "run", product)
    warehouse = warehouse_of(env)
    assert_ok(*run("extract", env, timeout=120))
    good = raw_state(warehouse)

    victim = product / "users" / "users.roles.csv"
    victim.unlink()
    if kind == "directory":
        victim.mkdir()
    else:
        os.mkfifo(victim)
    rc, out = run("extract", env, timeout=60)
    assert_clear_error(rc, out, re.escape("users.roles.csv"))
    assert raw_state(warehouse) == good, "the failed run changed the raw layer"


# ---------------------------------------------------------------------------------------------- SIGKILL
def test_sigkill_during_load_then_next_run_lands_everything_once(tmp_path: Path) -> None:
    product = copy_product(tmp_path / "product")
    env = pipeline_env(tmp_path / "run", product)
    warehouse = warehouse_of(env)
    assert_ok(*run("extract", env, timeout=120))
    good = raw_state(warehouse)

    pad_table(product, megabytes=30)  # the load takes 1-2 s (0.8 s without): the kill lands inside it
    log, seen = log_of(env), file_size(log_of(env))
    r = Run("extract", env)
    started = r.wait_for_file(log, r"stage load raw: started", timeout=120, after=seen, every=0.02)
    assert started, r.output[-3000:]
    time.sleep(0.3)  # some tables landed in the run's copy, others not yet
    r.pause()  # frozen where it is, then killed there: the log says whether that was inside the load
    with open(log, "rb") as fh:
        fh.seek(seen)
        loaded = b"stage load raw: done" in fh.read()
    assert not loaded, f"the load ended before the kill:\n{r.output[-3000:]}"
    r.kill()
    assert r.finish(timeout=30) == -9
    assert raw_state(warehouse) == good, "a killed load left a half-replaced raw layer"

    assert_ok(*run("extract", env, timeout=240))
    assert sum(assert_rows_reconcile(product, warehouse).values()) == 0


@pytest.mark.slow
@pytest.mark.timeout(1500)  # two dbt builds; minutes on a busy 2-core machine
def test_sigkill_during_dbt_then_next_build_succeeds(tmp_path: Path) -> None:
    from sample_product import generate

    product = tmp_path / "product"
    generate(product, educators=6, seed=11)
    env = pipeline_env(tmp_path / "run", product)
    warehouse = warehouse_of(env)
    dbt_log = dbt_log_of(env)
    seen = file_size(dbt_log)
    r = Run("build", env)
    # dbt's own log (the terminal shows a stage's line only when it ends): kill once dbt has built its
    # first table in the build's copy and works on the next ones.
    assert r.wait_for_file(dbt_log, r"Running with dbt=", timeout=240, after=seen), (
        f"no dbt run:\n{r.output[-3000:]}"
    )
    assert r.wait_for_file(dbt_log, r"OK created sql table model", timeout=240, after=seen), (
        f"dbt never created a table:\n{r.output[-3000:]}"
    )
    time.sleep(0.2)
    assert r.proc.poll() is None, f"dbt ended before the kill:\n{r.output[-3000:]}"
    r.kill()
    assert r.finish(timeout=30) == -9
    # All or nothing: the killed build worked in its own copy, which it left behind; nothing was published.
    assert not warehouse.exists(), "a killed first build must not publish a warehouse"
    assert list(warehouse.parent.glob("*.next*")), "the kill did not hit the build in its copy"

    assert_ok(*run("build", env, timeout=1200))
    assert sum(assert_rows_reconcile(product, warehouse).values()) == 0
    assert not list(warehouse.parent.glob("*.next*")), "the next build removes what the killed one left"
    # and starts afresh: the warehouse holds the loader's and the pipeline's own schemas, and exactly the
    # relations its dbt build made (none the killed build had half made)
    manifest = json.loads((dbt_dir_of(env) / "target" / "manifest.json").read_text(encoding="utf-8"))
    made = {
        (n["schema"], n.get("alias") or n["name"])
        for n in manifest["nodes"].values()
        if n["resource_type"] in ("model", "seed")
    }
    con = connect_ro(warehouse)
    try:
        relations = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    finally:
        con.close()
    assert {(s, t) for s, t in relations if s not in ("raw", "quality", "edfi_state")} == made, relations


# ---------------------------------------------------------------------------------------------- concurrency
def test_second_run_at_the_same_time_is_refused(tmp_path: Path) -> None:
    product = copy_product(tmp_path / "product")
    pad_table(product, megabytes=10)  # a load of 1-2 s, inside which the test stops the first run
    env = pipeline_env(tmp_path / "run", product)
    warehouse = warehouse_of(env)
    a = Run("extract", env)
    try:
        started = a.wait_for_file(log_of(env), r"stage load raw: started", timeout=120, every=0.02)
        assert started, a.output[-3000:]
        # Stopped with the run lock held, the first run outlasts the second's start-up (imports: 1-2 s)
        # up to the lock on any machine; then it goes on and ends well.
        a.pause()
        assert a.proc.poll() is None, "the first run ended before the second started"
        rc_b, out_b = run("extract", env, timeout=120)
        assert_clear_error(rc_b, out_b, r"another .*run|already", re.escape(str(warehouse)))
        a.resume()
        assert_ok(a.finish(timeout=240), a.output)
    finally:
        a.kill()
    assert sum(assert_rows_reconcile(product, warehouse).values()) == 0


def test_a_reader_never_blocks_a_run_and_keeps_its_snapshot(tmp_path: Path) -> None:
    """A reader holding the live warehouse read-only: the run lands in a copy and swaps it in; the reader
    keeps the file it opened (the old data) until it reconnects."""
    product = copy_product(tmp_path / "product")
    env = pipeline_env(tmp_path / "run", product)
    warehouse = warehouse_of(env)
    assert_ok(*run("extract", env, timeout=120))
    before = duckdb.connect(str(warehouse), read_only=True)  # the reader, in this process
    try:
        old_load = before.execute("select max_by(load_id, loaded_at) from raw._loads").fetchone()[0]
        with duckdb_holder(warehouse, read_only=True):
            assert_ok(*run("extract", env, timeout=120))
        assert before.execute("select max_by(load_id, loaded_at) from raw._loads").fetchone()[0] == old_load
    finally:
        before.close()
    now = duckdb.connect(str(warehouse), read_only=True)  # a new reader sees the new delivery
    try:
        assert now.execute("select max_by(load_id, loaded_at) from raw._loads").fetchone()[0] != old_load
    finally:
        now.close()
    assert sum(assert_rows_reconcile(product, warehouse).values()) == 0


def test_a_writer_holding_the_warehouse_gives_a_clear_error(tmp_path: Path) -> None:
    product = copy_product(tmp_path / "product")
    env = pipeline_env(tmp_path / "run", product)
    warehouse = warehouse_of(env)
    assert_ok(*run("extract", env, timeout=120))
    good = raw_state(warehouse)
    with duckdb_holder(warehouse, read_only=False):
        rc, out = run("extract", env, timeout=120)
    assert_clear_error(rc, out, re.escape(warehouse.name), r"open in process \d+")
    assert raw_state(warehouse) == good
    assert_ok(*run("extract", env, timeout=120))
    assert sum(assert_rows_reconcile(product, warehouse).values()) == 0
