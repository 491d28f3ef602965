"""Settings are checked before any work, every failure is one clear message, and the run lock is clear.

Fast: no dbt, no network. The CLI is run as a subprocess where the terminal output is what is tested.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from _pipeline import run_pipeline

from extract.sftp import SftpError, parse_sftp_url
from pipeline import cli
from pipeline import config as cfg
from pipeline.lock import RunLockedError, WarehouseFolderError, run_lock

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PRODUCT = PROJECT_ROOT / "tests" / "fixtures" / "example_product"
# Variables a developer may have set that would change what these tests see.
OWN_VARS = (
    "DATA_PRODUCT",
    "WAREHOUSE",
    "EDFI_OUTPUT",
    "LANDING_DIR",
    "EDFI_DISTRICT_ID",
    "EDFI_SCHOOL_YEARS",
    "EDFI_COHORT_ID_MAX_LENGTH",
    "EDFI_API_URL",
    "EDFI_RESOURCES",
    "EDFI_ALLOW_DELETES",
    "EDFI_DELETE_THRESHOLD",
    "EDFI_VERIFY_SSL",
    "STRICT",
    "LOG_FILE",
    *cfg.SECRET_VARIABLES,
)


@pytest.fixture
def places(tmp_path: Path) -> dict[str, str]:
    """Paths the bad values point at: a file, a folder, a missing path."""
    (tmp_path / "a-file").write_text("not a folder\n")
    (tmp_path / "a-folder").mkdir()
    return {
        "file": str(tmp_path / "a-file"),
        "folder": str(tmp_path / "a-folder"),
        "missing": str(tmp_path / "missing"),
        "tmp": str(tmp_path),
    }


def real_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A valid environment for a real delivery from a folder, with everything under `tmp_path`."""
    env = {
        "DATA_PRODUCT": str(EXAMPLE_PRODUCT),
        "WAREHOUSE": str(tmp_path / "warehouse" / "edreflect.duckdb"),
        "EDFI_OUTPUT": str(tmp_path / "edfi"),
        "LANDING_DIR": str(tmp_path / "landing"),
        "EDFI_DISTRICT_ID": "3100042",
        "EDFI_SCHOOL_YEARS": "2024,2025",
    }
    env.update(extra)
    return env


# ---------------------------------------------------------------- each wrong setting
SFTP = {"DATA_PRODUCT": "sftp://district42@127.0.0.1:2222/offboarding", "SFTP_PASSWORD": "pw-not-shown"}

WRONG = [
    ("EDFI_SCHOOL_YEARS", "1999", {}),
    ("EDFI_SCHOOL_YEARS", "2999", {}),
    ("EDFI_SCHOOL_YEARS", "2024-25", {}),
    ("EDFI_SCHOOL_YEARS", "2024,twenty", {}),
    ("EDFI_SCHOOL_YEARS", ",", {}),
    ("EDFI_DISTRICT_ID", "99999999999", {}),
    ("EDFI_DISTRICT_ID", "2147483648", {}),
    ("EDFI_DISTRICT_ID", "-5", {}),
    ("EDFI_DISTRICT_ID", "0", {}),
    ("EDFI_DISTRICT_ID", "abc", {}),
    ("EDFI_DISTRICT_ID", "3_100_042", {}),
    ("EDFI_COHORT_ID_MAX_LENGTH", "0", {}),
    ("EDFI_COHORT_ID_MAX_LENGTH", "37", {}),
    ("EDFI_COHORT_ID_MAX_LENGTH", "twenty", {}),
    ("DATA_PRODUCT", "SFTP://user@[::1/x", {}),
    ("DATA_PRODUCT", "sftp://user@host:0/x", {}),
    ("DATA_PRODUCT", "sftp://user@host:65536/x", {}),
    ("DATA_PRODUCT", "sftp://user@host:ssh/x", {}),
    ("DATA_PRODUCT", "sftp://host/x", {}),
    ("DATA_PRODUCT", "sftp://user@host/x#y", {}),
    ("DATA_PRODUCT", "ftp://user@host/x", {}),
    ("DATA_PRODUCT", "{missing}", {}),
    ("DATA_PRODUCT", "{file}", {}),
    ("WAREHOUSE", "{folder}", {}),
    ("WAREHOUSE", "{folder}/", {}),
    ("WAREHOUSE", "{file}/edreflect.duckdb", {}),
    ("WAREHOUSE", "{file}/sub/edreflect.duckdb", {}),
    ("EDFI_OUTPUT", "{file}", {}),
    ("EDFI_OUTPUT", "{file}/edfi", {}),
    ("LANDING_DIR", "{file}", SFTP),
    ("SFTP_READ_SIZE", "abc", {}),
    ("SFTP_READ_SIZE", "100", {}),
    ("SFTP_READ_SIZE", "-32768", {}),
    ("SFTP_INSECURE_ACCEPT_UNKNOWN_HOST", "sure", {}),
    ("SFTP_KEY_FILE", "{missing}", SFTP),
    ("SFTP_KEY_FILE", "{folder}", SFTP),
    ("SFTP_KNOWN_HOSTS", "{missing}", SFTP),
    ("EDFI_API_URL", "ftp://api.example.org/", {}),
    ("EDFI_API_URL", "https://", {}),
    ("EDFI_API_URL", "api.example.org/v7.3/api", {}),
    ("EDFI_API_URL", "https://api.example.org:0/api", {}),
    ("EDFI_API_URL", "https://[::1/api", {}),
    ("EDFI_VERIFY_SSL", "maybe", {}),
    ("EDFI_RESOURCES", "students", {}),
    ("EDFI_RESOURCES", "cohorts,students", {}),
    ("EDFI_RESOURCES", ",", {}),
    ("EDFI_ALLOW_DELETES", "-1", {}),
    ("EDFI_ALLOW_DELETES", "all", {}),
    ("EDFI_ALLOW_DELETES", "1.5", {}),
    ("EDFI_DELETE_THRESHOLD", "10", {}),
    ("EDFI_DELETE_THRESHOLD", "-0.1", {}),
    ("EDFI_DELETE_THRESHOLD", "nan", {}),
    ("EDFI_DELETE_THRESHOLD", "ten percent", {}),
    ("STRICT", "2", {}),
]


@pytest.mark.parametrize(("name", "value", "extra"), WRONG, ids=[f"{n}={v}" for n, v, _ in WRONG])
def test_a_wrong_setting_names_the_variable_and_the_value(
    tmp_path: Path, places: dict[str, str], name: str, value: str, extra: dict[str, str]
) -> None:
    value = value.format(**places)
    env = real_env(tmp_path, **extra, **{name: value})
    with pytest.raises(cfg.ConfigError) as err:
        cfg.from_env(env)
    message = str(err.value)
    assert name in message
    assert value.rstrip("/") in message, message
    line = next(line for line in err.value.problems if name in line)
    assert len(line) > len(name) + len(value) + 20, f"no fix given: {line}"
    assert not list(tmp_path.glob("warehouse*")), "checking the settings created the warehouse folder"


def test_sample_defaults_and_good_values(tmp_path: Path) -> None:
    s = cfg.from_env({"WAREHOUSE": str(tmp_path / "w.duckdb")})
    assert s.uses_sample
    assert s.district_id == cfg.SAMPLE_DISTRICT_ID and s.school_years == cfg.SAMPLE_SCHOOL_YEARS
    assert s.cohort_identifier_max_length == 20
    assert (s.api_url, s.verify_ssl, s.allow_deletes, s.strict) == (None, True, None, False)
    assert s.resources == ("cohorts", "staffCohortAssociations")
    assert s.delete_threshold == pytest.approx(0.10)

    s = cfg.from_env(
        real_env(
            tmp_path,
            EDFI_DISTRICT_ID=" 2147483647 ",
            EDFI_SCHOOL_YEARS="2025, 2024,,2025",  # duplicates are collapsed, the years sorted
            EDFI_COHORT_ID_MAX_LENGTH="36",
            EDFI_API_URL="https://api.example.org/v7.3/api/",
            EDFI_VERIFY_SSL="No",
            EDFI_RESOURCES="STAFFCOHORTASSOCIATIONS",
            EDFI_ALLOW_DELETES="0",
            EDFI_DELETE_THRESHOLD="0.25",
            STRICT="yes",
            SFTP_READ_SIZE="32768",
        )
    )
    assert s.district_id == 2147483647 and s.school_years == (2024, 2025)
    assert s.cohort_identifier_max_length == 36
    assert s.api_url == "https://api.example.org/v7.3/api"
    assert s.verify_ssl is False and s.strict is True
    assert s.resources == ("staffCohortAssociations",)
    assert s.allow_deletes == 0 and s.delete_threshold == pytest.approx(0.25)
    both = cfg.from_env(real_env(tmp_path, EDFI_RESOURCES=" staffcohortassociations , Cohorts"))
    assert both.resources == ("cohorts", "staffCohortAssociations")  # canonical spelling and order


def test_empty_values_mean_unset(tmp_path: Path) -> None:
    """The Makefile exports every variable it names, empty when not given."""
    names = ("EDFI_API_URL", "EDFI_RESOURCES", "EDFI_ALLOW_DELETES", "EDFI_DELETE_THRESHOLD")
    s = cfg.from_env(real_env(tmp_path, EDFI_VERIFY_SSL="", STRICT=" ", **dict.fromkeys(names, "")))
    assert s.verify_ssl is True and s.strict is False and s.api_url is None and s.allow_deletes is None


def test_a_real_delivery_needs_district_and_years_but_extract_does_not(tmp_path: Path) -> None:
    env = real_env(tmp_path)
    del env["EDFI_DISTRICT_ID"], env["EDFI_SCHOOL_YEARS"]
    with pytest.raises(cfg.ConfigError) as err:
        cfg.from_env(env)
    assert len(err.value.problems) == 2
    assert "EDFI_DISTRICT_ID is not set" in str(err.value) and "EDFI_SCHOOL_YEARS is not set" in str(
        err.value
    )
    s = cfg.from_env(env, command="extract")
    assert s.district_id is None and s.school_years is None
    # Settings built in code get the same rule.
    with pytest.raises(cfg.ConfigError, match="EDFI_DISTRICT_ID is not set"):
        cfg.require_edfi(s)
    assert cfg.require_edfi(
        cfg.Settings(None, tmp_path / "w", tmp_path, tmp_path, None, None)
    ).district_id == (cfg.SAMPLE_DISTRICT_ID)


def test_sftp_files_are_checked_only_when_fetching_over_sftp(tmp_path: Path, places: dict[str, str]) -> None:
    leftover = {"SFTP_KEY_FILE": places["missing"], "SFTP_KNOWN_HOSTS": places["missing"]}
    cfg.from_env(real_env(tmp_path, **leftover))  # a local folder: the SFTP files do not matter
    cfg.from_env(real_env(tmp_path, **SFTP, **leftover), command="dbt")  # dbt does not fetch
    with pytest.raises(cfg.ConfigError) as err:
        cfg.from_env(real_env(tmp_path, **SFTP, **leftover))
    assert len(err.value.problems) == 2
    no_creds = {k: v for k, v in SFTP.items() if k != "SFTP_PASSWORD"}
    with pytest.raises(cfg.ConfigError, match="no SFTP credentials"):
        cfg.from_env(real_env(tmp_path, **no_creds))
    # The insecure switch makes a missing known_hosts acceptable.
    cfg.from_env(
        real_env(tmp_path, **SFTP, SFTP_KNOWN_HOSTS=places["missing"], SFTP_INSECURE_ACCEPT_UNKNOWN_HOST="1")
    )


def test_several_wrong_settings_are_all_reported_at_once(tmp_path: Path, places: dict[str, str]) -> None:
    env = real_env(
        tmp_path,
        DATA_PRODUCT="SFTP://user@[::1/x",
        SFTP_PASSWORD="pw",
        WAREHOUSE=places["folder"],
        EDFI_DISTRICT_ID="-5",
        EDFI_SCHOOL_YEARS="1999",
        EDFI_COHORT_ID_MAX_LENGTH="0",
        EDFI_RESOURCES="students",
        EDFI_DELETE_THRESHOLD="2",
    )
    with pytest.raises(cfg.ConfigError) as err:
        cfg.from_env(env)
    message = str(err.value)
    names = (
        "DATA_PRODUCT",
        "WAREHOUSE",
        "EDFI_DISTRICT_ID",
        "EDFI_SCHOOL_YEARS",
        "EDFI_COHORT_ID_MAX_LENGTH",
    )
    names += ("EDFI_RESOURCES", "EDFI_DELETE_THRESHOLD")
    assert len(err.value.problems) == len(names)
    assert message.startswith(f"{len(names)} settings need fixing:")
    for name in names:
        assert sum(name in line for line in message.splitlines()[1:]) >= 1, name
    assert len(message.splitlines()) == len(names) + 1, "one line per problem"


def test_secrets_stay_out_of_repr_and_messages(tmp_path: Path) -> None:
    secrets = {
        "SFTP_PASSWORD": "sftp-pw-xyzzy",
        "SFTP_KEY_PASSPHRASE": "passphrase-xyzzy",
        "EDFI_CLIENT_ID": "client-id-xyzzy",
        "EDFI_CLIENT_SECRET": "client-secret-xyzzy",
    }
    s = cfg.from_env(real_env(tmp_path, **secrets, EDFI_API_URL="https://api.example.org/api"))
    assert s.secrets == secrets
    assert "xyzzy" not in repr(s) and "xyzzy" not in str(s)
    assert cfg.require_api(s) is s
    with pytest.raises(cfg.ConfigError) as err:
        cfg.from_env(real_env(tmp_path, DATA_PRODUCT="sftp://bob:hunter2-xyzzy@host/x"))
    assert "xyzzy" not in str(err.value) and "SFTP_PASSWORD" in str(err.value)
    with pytest.raises(cfg.ConfigError) as err:
        cfg.from_env(real_env(tmp_path, EDFI_API_URL="https://bob:hunter2-xyzzy@api.example.org/api"))
    assert "xyzzy" not in str(err.value) and "EDFI_CLIENT_SECRET" in str(err.value)


def test_require_api_reports_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(cfg.ConfigError) as err:
        cfg.require_api(cfg.from_env(real_env(tmp_path, EDFI_CLIENT_ID="id")))
    assert len(err.value.problems) == 2
    assert "EDFI_API_URL is not set" in str(err.value) and "EDFI_CLIENT_SECRET is not set" in str(err.value)
    with pytest.raises(cfg.ConfigError, match="EDFI_CLIENT_ID and EDFI_CLIENT_SECRET are not set"):
        cfg.from_env(real_env(tmp_path, EDFI_API_URL="http://localhost:8001/api"), command="send")


def test_sftp_urls() -> None:
    assert parse_sftp_url("SFTP://bob@Example.org/data").port == 22
    t = parse_sftp_url("sftp://bob@[::1]:2222/~/x")
    assert (t.host, t.port, t.path) == ("::1", 2222, "x")
    for url, message in [
        ("sftp://bob@host:0/x", "invalid port"),
        ("sftp://bob@[::1/x", "not a well-formed URL"),
        ("sftp://bob@host/x?y", "`?` or `#`"),
    ]:
        with pytest.raises(SftpError, match=message):
            parse_sftp_url(url)


# ---------------------------------------------------------------- the CLI: one message, no traceback
def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in OWN_VARS and not k.startswith("SFTP_")}
    env |= {
        "WAREHOUSE": str(tmp_path / "warehouse" / "edreflect.duckdb"),
        "EDFI_OUTPUT": str(tmp_path / "edfi"),
        "LOG_FILE": str(tmp_path / "logs" / "edreflect-edfi.log"),
        "DBT_TARGET_PATH": str(tmp_path / "dbt-target"),
        "DBT_LOG_PATH": str(tmp_path / "dbt-logs"),
        "GX_DIR": str(tmp_path / "gx"),
    }
    env.update(extra)
    return env


def run_cli(
    env: dict[str, str], *args: str, timeout: float = 60
) -> tuple[subprocess.CompletedProcess, float]:
    t0 = time.monotonic()
    proc = run_pipeline(*args, env=env, timeout=timeout)
    return proc, time.monotonic() - t0


BAD_ENVS = {
    "school year 1999": ({"EDFI_SCHOOL_YEARS": "1999"}, "EDFI_SCHOOL_YEARS='1999'"),
    "district beyond int32": ({"EDFI_DISTRICT_ID": "99999999999"}, "EDFI_DISTRICT_ID='99999999999'"),
    "district -5": ({"EDFI_DISTRICT_ID": "-5"}, "EDFI_DISTRICT_ID='-5'"),
    "max length 0": ({"EDFI_COHORT_ID_MAX_LENGTH": "0"}, "EDFI_COHORT_ID_MAX_LENGTH='0'"),
    "malformed url": ({"DATA_PRODUCT": "SFTP://user@[::1/x"}, "DATA_PRODUCT='SFTP://user@[::1/x'"),
    "port 0": (
        {"DATA_PRODUCT": "sftp://u@127.0.0.1:0/x", "EDFI_DISTRICT_ID": "1", "EDFI_SCHOOL_YEARS": "2025"},
        "invalid port",
    ),
    "warehouse is a folder": ({"WAREHOUSE": "{tmp}"}, "is a folder"),
    "warehouse named with a dash": (
        {"WAREHOUSE": "{tmp}/warehouse/district-42.duckdb"},
        "the file name before its first dot ('district-42') names the warehouse's database",
    ),
    "warehouse named by a reserved word": ({"WAREHOUSE": "{tmp}/warehouse/select.duckdb"}, "('select')"),
}


@pytest.mark.parametrize("case", list(BAD_ENVS))
def test_the_cli_refuses_a_wrong_setting_at_once_with_one_message(
    tmp_path: Path, places: dict[str, str], case: str
) -> None:
    extra, expected = BAD_ENVS[case]
    proc, took = run_cli(cli_env(tmp_path, **{k: v.format(**places) for k, v in extra.items()}), "build")
    assert proc.returncode == 1, proc.stderr
    assert took < 10, f"took {took:.1f} s: the settings were not checked first"
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.startswith("error: ") and proc.stderr.count("error: ") == 1, proc.stderr
    assert expected.format(**places) in proc.stderr
    assert not (tmp_path / "warehouse").exists(), "work started before the settings were checked"


# What `python -m pipeline` runs (pipeline/__main__.py), with a thread and an exit handler of the kind a
# command leaves behind (the GX worker's close is one): both must have done their work when it ends.
_QUICK_EXIT = """
import atexit, sys, threading, time
from pathlib import Path

out = Path(sys.argv[1])
threading.Thread(target=lambda: (time.sleep(0.3), (out / "thread").write_text("done"))).start()
atexit.register(lambda: (out / "handler").write_text("ran"))
print("buffered, not flushed", end="")
sys.argv = ["edreflect-edfi", *sys.argv[2:]]
from pipeline.cli import run
run()
"""


@pytest.mark.parametrize(
    ("args", "code"),
    [(["sample", "--educators", "2", "--out", "{tmp}/sample"], 0), (["sample", "--educators", "1"], 1)],
)
def test_the_command_line_ends_with_its_code_after_its_threads_and_exit_handlers(
    tmp_path: Path, args: list[str], code: int
) -> None:
    """The command line skips the interpreter's teardown (cli.run): what a normal exit does still happens."""
    argv = [arg.format(tmp=tmp_path) for arg in args]
    proc = subprocess.run(
        [sys.executable, "-c", _QUICK_EXIT, str(tmp_path), *argv],
        cwd=PROJECT_ROOT,
        env={k: v for k, v in cli_env(tmp_path).items() if k != "PYTHONUNBUFFERED"},  # stdout buffered
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == "buffered, not flushed"
    assert (tmp_path / "thread").read_text() == "done"
    assert (tmp_path / "handler").read_text() == "ran"
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", ["send", "resync"])
def test_send_and_resync_refuse_without_the_api_settings(tmp_path: Path, command: str) -> None:
    proc, took = run_cli(cli_env(tmp_path, EDFI_CLIENT_ID="only-the-id"), command)
    assert proc.returncode == 1 and took < 10 and "Traceback" not in proc.stderr
    assert "EDFI_API_URL is not set" in proc.stderr and "EDFI_CLIENT_SECRET is not set" in proc.stderr
    assert "only-the-id" not in proc.stderr


def test_an_os_error_is_one_message_and_the_traceback_goes_to_the_log(
    tmp_path: Path, places: dict[str, str]
) -> None:
    env = cli_env(tmp_path)
    proc, _ = run_cli(env, "sample", "--out", f"{places['file']}/sample")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    log_file = Path(env["LOG_FILE"])
    assert f"{places['file']}/sample" in proc.stderr and str(log_file) in proc.stderr
    assert "Traceback (most recent call last)" in log_file.read_text()


def test_an_unexpected_error_names_the_log_file_which_holds_the_traceback(tmp_path: Path) -> None:
    """A bug (here a ZeroDivisionError planted in the sample generator) is reported, not dumped."""
    env = cli_env(tmp_path)
    code = (
        "import sys, sample_product as s\n"
        "def boom(*a, **k):\n    return 1 / 0\n"
        "s.generate = boom\n"
        "from pipeline.cli import main\n"
        f"sys.exit(main(['sample', '--out', {str(tmp_path / 'sample')!r}]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    log_file = Path(env["LOG_FILE"])
    assert proc.stderr.startswith("unexpected error: ZeroDivisionError: division by zero")
    assert f"the full traceback is in {log_file}" in proc.stderr
    text = log_file.read_text()
    assert "Traceback (most recent call last)" in text and "in boom" in text and "ZeroDivisionError" in text


def test_ctrl_c_is_a_short_message_and_exit_130(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("LOG_FILE", str(tmp_path / "log"))

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("sample_product.generate", interrupted)
    root = logging.getLogger()
    try:
        assert cli.main(["sample", "--out", str(tmp_path / "s")]) == 130
    finally:
        for h in [h for h in root.handlers if getattr(h, "_edreflect", False)]:
            root.removeHandler(h)
            h.close()
    err = capsys.readouterr().err
    assert err.startswith("interrupted") and "Traceback" not in err
    assert "KeyboardInterrupt" in (tmp_path / "log").read_text()


def test_secrets_never_reach_the_log_or_the_terminal(tmp_path: Path) -> None:
    env = cli_env(tmp_path, EDFI_CLIENT_SECRET="client-secret-xyzzy", SFTP_PASSWORD="sftp-pw-xyzzy")
    code = (
        "import os, sys, sample_product as s\n"
        "def boom(*a, **k):\n    raise RuntimeError('leaked ' + os.environ['EDFI_CLIENT_SECRET'])\n"
        "s.generate = boom\n"
        "from pipeline.cli import main\n"
        f"sys.exit(main(['sample', '--out', {str(tmp_path / 'sample')!r}]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1 and "leaked ***" in proc.stderr
    assert "xyzzy" not in proc.stderr + Path(env["LOG_FILE"]).read_text()


# ---------------------------------------------------------------- locks


def test_a_folder_even_root_cannot_write_gives_a_clear_lock_message() -> None:
    """sysfs refuses new files whatever the user (root included)."""
    with pytest.raises(WarehouseFolderError) as err, run_lock(Path("/sys/edreflect.duckdb")):
        pass
    message = str(err.value)
    assert "/sys" in message and "WAREHOUSE" in message and "writable" in message
    assert not message.startswith("[Errno")


def test_a_file_in_the_way_gives_a_clear_lock_message(tmp_path: Path) -> None:
    (tmp_path / "warehouse").write_text("a file where the warehouse folder should be")
    with (
        pytest.raises(WarehouseFolderError, match=r"warehouse folder .*warehouse is a file, not a folder"),
        run_lock(tmp_path / "warehouse" / "edreflect.duckdb"),
    ):
        pass


def test_a_read_only_warehouse_folder_is_a_clear_message(tmp_path: Path) -> None:
    """A real read-only file system (a read-only bind mount in a private mount namespace: root too)."""
    ro = tmp_path / "ro"
    ro.mkdir()
    warehouse = ro / "edreflect.duckdb"
    env = cli_env(tmp_path, WAREHOUSE=str(warehouse))
    lock_check = (
        "from pathlib import Path; from pipeline.lock import run_lock\n"
        f"with run_lock(Path({str(warehouse)!r})):\n    pass\n"
    )
    script = (
        f'mount --bind -o ro "{ro}" "{ro}" || exit 99\n'
        f'"{sys.executable}" -c "$LOCK_CHECK" 2>&1 | tail -n 1\n'
        f'"{sys.executable}" -m pipeline dbt build\n'
    )
    proc = subprocess.run(
        ["unshare", "-m", "sh", "-c", script],
        cwd=PROJECT_ROOT,
        env={**env, "LOCK_CHECK": lock_check, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 99, f"a read-only bind mount could not be made here: {proc.stderr.strip()}"
    lock_line, cli_out = proc.stdout.strip(), proc.stderr
    # run_lock itself (for callers that skip the settings check): names the folder and the fix.
    assert "WarehouseFolderError" in lock_line and "read-only file system" in lock_line, lock_line
    assert f"warehouse folder {ro} " in lock_line and "set WAREHOUSE" in lock_line
    # The CLI: the settings check refuses it first, naming the variable and the folder.
    assert proc.returncode == 1 and "Traceback" not in cli_out
    assert f"WAREHOUSE='{warehouse}': the folder {ro} is read-only" in cli_out, cli_out


def test_the_dbt_command_takes_the_run_lock(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    warehouse = Path(env["WAREHOUSE"])
    with run_lock(warehouse):
        proc, took = run_cli(env, "dbt", "build")
    assert proc.returncode == 1 and took < 10
    assert "another edreflect-edfi run is already using the warehouse" in proc.stderr
    assert f"process {os.getpid()} holds the lock" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    with pytest.raises(RunLockedError), run_lock(warehouse), run_lock(warehouse):
        pass


def test_a_program_holding_the_warehouse_open_is_refused_before_dbt_starts(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    warehouse = Path(env["WAREHOUSE"])
    warehouse.parent.mkdir(parents=True)
    duckdb.connect(str(warehouse)).close()
    reader = duckdb.connect(str(warehouse), read_only=True)  # this test process is the "other program"
    try:
        proc, took = run_cli(env, "dbt", "build")  # dbt writes the live warehouse (build works on a copy)
        assert proc.returncode == 1 and took < 10, proc.stderr[-2000:]
        assert "Traceback" not in proc.stderr + proc.stdout
        assert f"the warehouse {warehouse} is open in process {os.getpid()}" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    finally:
        reader.close()
