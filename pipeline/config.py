"""Run settings, from the environment (the Makefile passes its variables through).

Every setting is parsed and checked here, before any work starts (no network, no DuckDB, no dbt): a wrong
one raises `ConfigError` naming the environment variable, the value and the fix, and all the problems of
one run are reported together, one line each.

Secrets (SFTP password and key passphrase, Ed-Fi client id and secret) are read here and nowhere else, kept
in `Settings.secrets`, and never appear in `repr`, logs or the load manifest.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from extract.contract import PROJECT_ROOT

DEFAULT_WAREHOUSE = PROJECT_ROOT / "warehouse" / "edreflect.duckdb"
DEFAULT_OUTPUT = PROJECT_ROOT / "output" / "edfi"
DEFAULT_LANDING = PROJECT_ROOT / "landing"
DEFAULT_LOG_FILE = PROJECT_ROOT / "logs" / "edreflect-edfi.log"
# The embedded sample product: generated into this folder when DATA_PRODUCT is not set.
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
SAMPLE_SEED = 20250701
SAMPLE_EDUCATORS = 60
# The embedded sample's own district (a made-up Nebraska-style state district number) and years: the
# defaults of EDFI_DISTRICT_ID and EDFI_SCHOOL_YEARS when DATA_PRODUCT is not set.
SAMPLE_DISTRICT_ID = 3100042
SAMPLE_SCHOOL_YEARS = (2024, 2025)

# Ed-Fi educationOrganizationId is an INT (32-bit, signed) in every Data Standard; 0 and below are not ids.
DISTRICT_ID_MAX = 2**31 - 1
# Ed-Fi's schoolYear is the calendar year the school year ends in (2025 = 2024-25). EdReflect and the Ed-Fi
# Data Standards this targets postdate 2000, and nobody sends a school year that starts more than a year
# from now: anything outside is a typo that would schedule every cohort of the real years for DELETE.
SCHOOL_YEAR_MIN = 2000
# cohortIdentifier is 20 characters in Data Standard 3.x/4.0 (Nebraska v3.5) and 36 in 5.x.
COHORT_ID_MAX_LENGTH_DEFAULT = 20
COHORT_ID_MAX_LENGTH_LIMIT = 36
# The Ed-Fi resources this project writes, canonical spelling, in dependency order (cohorts first).
RESOURCES = ("cohorts", "staffCohortAssociations")
DEFAULT_DELETE_THRESHOLD = 0.10
# SFTP read request size (bytes): extract/sftp.py clamps to these; outside them the value is a mistake.
SFTP_READ_SIZE_MIN = 4096
SFTP_READ_SIZE_MAX = 256 * 1024 - 1024
# Environment-only secrets: kept in Settings.secrets, never in repr, logs or messages.
SECRET_VARIABLES = (
    "SFTP_PASSWORD",
    "SFTP_KEY_PASSPHRASE",
    "EDFI_CLIENT_ID",
    "EDFI_CLIENT_SECRET",
    "PGPASSWORD",
)
# ENGINE: where dbt builds the models. DuckDB (embedded, the default), a PostgreSQL server (PG* variables) or
# Spark (dbt-spark in `.venv-spark`, SPARK_MASTER).
ENGINES = ("duckdb", "postgres", "spark")
# SPARK_MASTER: Spark's master URL forms (local mode with N threads, a standalone cluster, YARN, Kubernetes)
SPARK_MASTER_DEFAULT = "local[2]"
_SPARK_MASTER = re.compile(r"local(\[(\*|[1-9][0-9]*)(, *[0-9]+)?\])?|spark://[^\s/]+|yarn|k8s://\S+")

# What each command needs beyond well-formed values (see `from_env`).
COMMANDS = ("build", "extract", "dbt", "docs", "send", "resync")
_FETCHES = {"build", "extract"}  # reads DATA_PRODUCT (folder or SFTP) and writes LANDING_DIR
_NEEDS_EDFI = {"build", "dbt", "docs", "send", "resync"}  # the Ed-Fi models need district and years
_NEEDS_API = {"send", "resync"}
_NEEDS_PROJECT = {"build", "dbt", "docs"}  # run dbt: need the project folder (dbt_project.yml, models/...)

_NO_DISTRICT = (
    "EDFI_DISTRICT_ID is not set: the Ed-Fi export needs the district's educationOrganizationId (the State "
    f"District Number), e.g. `make build DATA_PRODUCT=... EDFI_DISTRICT_ID={SAMPLE_DISTRICT_ID}`"
)
_NO_YEARS = (
    "EDFI_SCHOOL_YEARS is not set: list the school years to send, e.g. EDFI_SCHOOL_YEARS=2024,2025 "
    "(2025 means 2024-25)"
)
_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no"}


class ConfigError(ValueError):
    """One or more settings are missing or malformed; the message says which and how to fix each.

    `problems` holds one line per problem (the message is those lines, under a heading when several).
    """

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            text = self.problems[0]
        else:
            text = f"{len(self.problems)} settings need fixing:\n" + "\n".join(
                f"  - {p}" for p in self.problems
            )
        super().__init__(text)


@dataclass(frozen=True)
class Settings:
    data_product: str | None  # folder or sftp:// URL; None = the embedded sample
    warehouse: Path
    edfi_output: Path
    landing: Path
    district_id: int | None
    school_years: tuple[int, ...] | None
    cohort_identifier_max_length: int = COHORT_ID_MAX_LENGTH_DEFAULT
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    # Ed-Fi delivery (`send`, `resync`)
    api_url: str | None = None  # EDFI_API_URL: the API base URL (where its discovery document is)
    verify_ssl: bool = True  # EDFI_VERIFY_SSL
    resources: tuple[str, ...] = RESOURCES  # EDFI_RESOURCES: which resources to send
    allow_deletes: int | None = None  # EDFI_ALLOW_DELETES: deletes the user confirmed (like --max-delete)
    delete_threshold: float = DEFAULT_DELETE_THRESHOLD  # EDFI_DELETE_THRESHOLD: fraction 0..1
    strict: bool = False  # STRICT
    snapshot: bool = True  # WAREHOUSE_SNAPSHOT: publish the SQL consumers' read-only copy with each run
    engine: str = "duckdb"  # ENGINE
    postgres: PostgresConnection | None = None  # ENGINE=postgres: the PG* variables (no password)
    spark_master: str = SPARK_MASTER_DEFAULT  # ENGINE=spark: SPARK_MASTER

    @property
    def uses_sample(self) -> bool:
        return not self.data_product


@dataclass(frozen=True)
class PostgresConnection:
    """Where ENGINE=postgres builds: libpq's own variables. The password (PGPASSWORD) stays in the
    environment and in `Settings.secrets`: libpq and dbt's profile read it from there, nothing logs it."""

    host: str
    port: int
    user: str
    dbname: str

    def environ(self) -> dict[str, str]:
        """The PG* variables for libpq and for profiles.yml's `postgres` output."""
        return {"PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": self.user, "PGDATABASE": self.dbname}


# ---------------------------------------------------------------- value parsers
class _Problems:
    """Collects one line per wrong setting, so a run reports all of them at once."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        self.lines.append(line)

    def raise_if_any(self) -> None:
        if self.lines:
            raise ConfigError(self.lines)


def _get(env: Mapping[str, str], name: str) -> str:
    """The value, stripped; empty means unset (the Makefile exports empty variables)."""
    return (env.get(name) or "").strip()


def _int(p: _Problems, name: str, raw: str, lo: int, hi: int | None, what: str) -> int | None:
    """An ASCII whole number in lo..hi (`int()` alone would take `1_000`, `+5` and non-ASCII digits)."""
    if not re.fullmatch(r"-?[0-9]+", raw):
        p.add(f"{name}={raw!r} is not a whole number: {what}")
        return None
    value = int(raw)
    if value < lo or (hi is not None and value > hi):
        p.add(f"{name}={raw!r} is out of range: {what}")
        return None
    return value


def _bool(p: _Problems, name: str, raw: str, default: bool) -> bool:
    if not raw:
        return default
    low = raw.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    p.add(
        f"{name}={raw!r} is not a yes/no value: use 1, true or yes to turn it on, 0, false or no to turn "
        "it off"
    )
    return default


def _district(p: _Problems, raw: str) -> int | None:
    return _int(
        p,
        "EDFI_DISTRICT_ID",
        raw,
        1,
        DISTRICT_ID_MAX,
        f"it is the district's Ed-Fi educationOrganizationId (the State District Number, e.g. "
        f"{SAMPLE_DISTRICT_ID}), a whole number from 1 to {DISTRICT_ID_MAX}",
    )


def school_year_max(today: _dt.date | None = None) -> int:
    """The latest plausible school year: the one that starts next (in 2025, school year 2026 = 2025-26)."""
    return (today or _dt.date.today()).year + 1


def _school_years(p: _Problems, raw: str) -> tuple[int, ...] | None:
    """`2024,2025` -> (2024, 2025). Duplicates are accepted and collapsed; the result is sorted."""
    items = [y.strip() for y in raw.split(",") if y.strip()]
    if not items:
        p.add(f"EDFI_SCHOOL_YEARS={raw!r} lists no school year: write e.g. EDFI_SCHOOL_YEARS=2024,2025")
        return None
    hi = school_year_max()
    bad = [y for y in items if not re.fullmatch(r"[0-9]{4}", y) or not SCHOOL_YEAR_MIN <= int(y) <= hi]
    if bad:
        p.add(
            f"EDFI_SCHOOL_YEARS={raw!r}: {', '.join(repr(b) for b in bad)} "
            f"{'is not a school year' if len(bad) == 1 else 'are not school years'}: list the Ed-Fi school "
            f"years to send, comma separated, each the year the school year ends ({SCHOOL_YEAR_MIN}..{hi}; "
            f"2025 means 2024-25), e.g. EDFI_SCHOOL_YEARS=2024,2025"
        )
        return None
    return tuple(sorted({int(y) for y in items}))


def _cohort_max_length(p: _Problems, raw: str) -> int:
    if not raw:
        return COHORT_ID_MAX_LENGTH_DEFAULT
    value = _int(
        p,
        "EDFI_COHORT_ID_MAX_LENGTH",
        raw,
        1,
        COHORT_ID_MAX_LENGTH_LIMIT,
        f"the cohortIdentifier length limit of the target Ed-Fi API, 1 to {COHORT_ID_MAX_LENGTH_LIMIT}: "
        f"20 for Data Standard 3.x/4.0 (Nebraska v3.5, the default), 36 for 5.x",
    )
    return COHORT_ID_MAX_LENGTH_DEFAULT if value is None else value


def _resources(p: _Problems, raw: str) -> tuple[str, ...]:
    if not raw:
        return RESOURCES
    canonical = {r.lower(): r for r in RESOURCES}
    items = [r.strip() for r in raw.split(",") if r.strip()]
    unknown = [r for r in items if r.lower() not in canonical]
    allowed = ", ".join(RESOURCES)
    if not items or unknown:
        what = ", ".join(repr(u) for u in unknown) if unknown else "nothing"
        p.add(
            f"EDFI_RESOURCES={raw!r} names {what}: list the Ed-Fi resources to send, comma separated, from "
            f"{allowed} (unset sends both)"
        )
        return RESOURCES
    chosen = {canonical[r.lower()] for r in items}
    return tuple(r for r in RESOURCES if r in chosen)


def _allow_deletes(p: _Problems, raw: str) -> int | None:
    if not raw:
        return None
    return _int(
        p,
        "EDFI_ALLOW_DELETES",
        raw,
        0,
        None,
        "the number of Ed-Fi deletes you confirm, a whole number 0 or more (e.g. the count the last "
        "run reported)",
    )


def _delete_threshold(p: _Problems, raw: str) -> float:
    if not raw:
        return DEFAULT_DELETE_THRESHOLD
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        hint = f"; {raw}% is {float(raw) / 100:g}" if _is_percentish(raw) else ""
        p.add(
            f"EDFI_DELETE_THRESHOLD={raw!r} is not a fraction from 0 to 1: it is the share of what was sent "
            f"that a run may delete without EDFI_ALLOW_DELETES, e.g. 0.10 for 10%{hint}"
        )
        return DEFAULT_DELETE_THRESHOLD
    return value


def _is_percentish(raw: str) -> bool:
    try:
        return 1.0 < float(raw) <= 100.0
    except ValueError:
        return False


def _api_url(p: _Problems, raw: str) -> str | None:
    if not raw:
        return None
    fix = (
        "set the Ed-Fi API base URL, where its discovery document is, "
        "e.g. EDFI_API_URL=https://api.example.org/v7.3/api"
    )
    try:
        parts = urlsplit(raw)
        port = parts.port  # raises on a malformed port
    except ValueError as exc:
        p.add(f"EDFI_API_URL={raw!r} is not a valid URL ({exc}): {fix}")
        return None
    if parts.username is not None or parts.password is not None:
        # Do not echo the URL: it may hold a secret.
        p.add(
            "EDFI_API_URL holds a user name or password; remove it from the URL and set EDFI_CLIENT_ID and "
            "EDFI_CLIENT_SECRET in the environment instead"
        )
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        p.add(f"EDFI_API_URL={raw!r} is not an http(s) URL with a host: {fix}")
        return None
    if port == 0:
        p.add(
            f"EDFI_API_URL={raw!r} has port 0: use a port from 1 to 65535, or none for the scheme's default"
        )
        return None
    if parts.query or parts.fragment:
        p.add(f"EDFI_API_URL={raw!r} has a query or fragment (`?`, `#`): {fix}")
        return None
    return raw.rstrip("/")


def _engine(p: _Problems, env: Mapping[str, str]) -> tuple[str, PostgresConnection | None]:
    """ENGINE, and for postgres its connection from libpq's variables (form only: no connection here)."""
    raw = _get(env, "ENGINE")
    engine = raw.lower() or "duckdb"
    if engine not in ENGINES:
        p.add(
            f"ENGINE={raw!r} is not an engine: use duckdb (the default, embedded), postgres (PG* variables) "
            "or spark (SPARK_MASTER; `make spark-venv`)"
        )
        return "duckdb", None
    if engine != "postgres":
        return engine, None
    port = 5432
    raw_port = _get(env, "PGPORT")
    if raw_port:
        what = "the PostgreSQL server's port, 1 to 65535 (default 5432)"
        port = _int(p, "PGPORT", raw_port, 1, 65535, what)
    missing = [n for n in ("PGUSER", "PGDATABASE") if not _get(env, n)]
    if missing:
        p.add(
            f"ENGINE=postgres needs {' and '.join(missing)}: export PGHOST (default localhost), PGPORT "
            "(default 5432), PGUSER, PGDATABASE and, unless the server trusts you or ~/.pgpass has it, "
            "PGPASSWORD (environment only)"
        )
        return engine, None
    host = _get(env, "PGHOST") or "localhost"
    return engine, PostgresConnection(host, port or 5432, _get(env, "PGUSER"), _get(env, "PGDATABASE"))


def _spark_master(p: _Problems, env: Mapping[str, str]) -> str:
    """SPARK_MASTER (ENGINE=spark): a Spark master URL; checked for form only (nothing connects here)."""
    raw = _get(env, "SPARK_MASTER")
    if not raw:
        return SPARK_MASTER_DEFAULT
    if not _SPARK_MASTER.fullmatch(raw):
        p.add(
            f"SPARK_MASTER={raw!r} is not a Spark master URL: use local[N] (N threads on this machine, "
            f"default {SPARK_MASTER_DEFAULT}), local[*], spark://host:port, yarn or k8s://https://host:port"
        )
        return SPARK_MASTER_DEFAULT
    return raw


# ---------------------------------------------------------------- path checks (no side effects)
def _path(raw: str, default: Path) -> Path:
    return Path(raw).expanduser().resolve() if raw else default


def _show(name: str, raw: str, path: Path) -> str:
    return f"{name}={raw!r}" if raw else f"{name} (default {path})"


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _in_the_way(file: Path, folder: Path) -> str:
    if file == folder:
        return f"{file} is a file where a folder should be"
    return f"{file} is a file, so the folder {folder} cannot be created"


def _write_problem(folder: Path) -> str | None:
    """Why files cannot be created in the existing folder `folder`, or None. `os.access` asks the kernel,
    which answers for this user and also for a read-only file system (which stops root too); nothing is
    written, so checking has no side effects."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return "is read-only (read-only file system or no write permission)"
    return None


def _cannot_create_in(folder: Path) -> str | None:
    """Why files cannot be created in `folder` (existing, or to be created), or None."""
    base = _nearest_existing(folder)
    if not base.is_dir():
        return _in_the_way(base, folder)
    why = _write_problem(base)
    if why:
        verb = "" if base == folder else f", so {folder} cannot be created"
        return f"the folder {base} {why}{verb}"
    return None


def _check_folder(p: _Problems, name: str, raw: str, path: Path, what: str) -> None:
    """`path` is a writable folder, or one that can be created."""
    shown = _show(name, raw, path)
    fix = f"set {name} to a folder you can write to"
    if path.exists() and not path.is_dir():
        p.add(f"{shown}: {path} is a file, not a folder ({what}); {fix}")
        return
    problem = _cannot_create_in(path)
    if problem:
        p.add(f"{shown}: {problem} ({what}); {fix}")


_SQL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DUCKDB_DATABASES = ("memory", "system", "temp")  # the names DuckDB gives its own databases


def _taken_database_names() -> set[str]:
    """Names a warehouse's database cannot have: DuckDB's own databases and its reserved words."""
    import duckdb

    with duckdb.connect() as con:
        reserved = con.execute(
            "select keyword_name from duckdb_keywords() where keyword_category = 'reserved'"
        )
        return {*_DUCKDB_DATABASES, *(word.lower() for (word,) in reserved.fetchall())}


def _check_warehouse(p: _Problems, raw: str, path: Path) -> None:
    shown = _show("WAREHOUSE", raw, path)
    fix = (
        "set WAREHOUSE to a DuckDB file path in a folder you can write to, "
        "e.g. WAREHOUSE=warehouse/edreflect.duckdb"
    )
    if raw.endswith(("/", os.sep)) or path.is_dir():
        p.add(f"{shown} is a folder: WAREHOUSE is the DuckDB file itself; {fix}")
        return
    # the file's name before its first dot names its database in SQL, under which dbt and every writer
    # attach it (profiles.yml, extract/warehouse.py); dbt-duckdb writes the name into its ATTACH unquoted
    from extract.warehouse import catalog_name

    database = catalog_name(path)
    if not _SQL_NAME.fullmatch(database) or database.lower() in _taken_database_names():
        p.add(
            f"{shown}: the file name before its first dot ({database!r}) names the warehouse's database in "
            "SQL and must be a plain name: letters, digits and underscores, not starting with a digit, "
            f"neither {', '.join(_DUCKDB_DATABASES)} nor a reserved SQL word; {fix}"
        )
        return
    if path.exists():
        if not path.is_file():
            p.add(f"{shown}: {path} is not a regular file; {fix}")
            return
        if not os.access(path, os.R_OK | os.W_OK):
            p.add(f"{shown}: the file {path} is not readable and writable by this user; {fix}")
            return
    problem = _cannot_create_in(path.parent)
    if problem:
        # The warehouse and its run lock (`<warehouse>.lock`) are created in this folder.
        where = "; the warehouse and its .lock file live there" if problem.startswith("the folder") else ""
        p.add(f"{shown}: {problem}{where}; {fix}")


def _check_product_folder(p: _Problems, raw: str) -> None:
    path = Path(raw).expanduser()
    fix = (
        "set DATA_PRODUCT to the folder holding the data product's file groups, "
        "or to sftp://user@host[:port]/path"
    )
    if not path.exists():
        p.add(f"DATA_PRODUCT={raw!r}: the folder {path.resolve()} does not exist; {fix}")
    elif not path.is_dir():
        p.add(f"DATA_PRODUCT={raw!r}: {path.resolve()} is a file, not a folder; {fix}")
    else:
        try:
            with os.scandir(path) as it:
                next(it, None)
        except OSError as exc:
            p.add(f"DATA_PRODUCT={raw!r}: the folder {path.resolve()} cannot be read ({exc.strerror}); {fix}")


def _check_readable_file(p: _Problems, name: str, raw: str, what: str) -> None:
    path = Path(raw).expanduser()
    if not path.exists():
        p.add(f"{name}={raw!r}: {path} does not exist; {what}")
    elif not path.is_file():
        p.add(f"{name}={raw!r}: {path} is not a file; {what}")
    else:
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            p.add(f"{name}={raw!r}: {path} cannot be read ({exc.strerror}); {what}")


def _check_sftp(p: _Problems, env: Mapping[str, str], fetches: bool) -> None:
    """The SFTP settings: their form always, the files and credentials only when a command fetches over
    SFTP (a left-over SFTP_KEY_FILE in the shell must not stop a build of a local folder)."""
    insecure = _bool(
        p, "SFTP_INSECURE_ACCEPT_UNKNOWN_HOST", _get(env, "SFTP_INSECURE_ACCEPT_UNKNOWN_HOST"), False
    )
    read_size = _get(env, "SFTP_READ_SIZE")
    if read_size:
        _int(
            p,
            "SFTP_READ_SIZE",
            read_size,
            SFTP_READ_SIZE_MIN,
            SFTP_READ_SIZE_MAX,
            f"bytes per SFTP read request, {SFTP_READ_SIZE_MIN} to {SFTP_READ_SIZE_MAX} (32768 is what "
            f"every server accepts); unset it to let the client choose",
        )
    if not fetches:
        return
    key = _get(env, "SFTP_KEY_FILE")
    if key:
        _check_readable_file(
            p, "SFTP_KEY_FILE", key, "point it at the private key file (e.g. ~/.ssh/id_ed25519)"
        )
    elif not env.get("SFTP_PASSWORD"):
        p.add(
            "no SFTP credentials: DATA_PRODUCT is an sftp:// URL but neither SFTP_KEY_FILE nor SFTP_PASSWORD "
            "is set; set SFTP_KEY_FILE (and SFTP_KEY_PASSPHRASE if the key is encrypted) or SFTP_PASSWORD"
        )
    known = _get(env, "SFTP_KNOWN_HOSTS")
    if known and not insecure:
        _check_readable_file(
            p,
            "SFTP_KNOWN_HOSTS",
            known,
            "point it at the known_hosts file holding the server's host key (add it with ssh-keyscan, "
            "checking the fingerprint with the vendor), or unset it to use ~/.ssh/known_hosts",
        )


def _check_product(p: _Problems, raw: str, env: Mapping[str, str], fetches: bool) -> None:
    from extract.sftp import SftpError, is_sftp_url, parse_sftp_url

    if is_sftp_url(raw):
        try:
            parse_sftp_url(raw)
        except SftpError as exc:
            p.add(str(exc))
        _check_sftp(p, env, fetches)
        return
    _check_sftp(p, env, False)
    if "://" in raw:
        netloc = raw.partition("://")[2].split("/", 1)[0]
        shown = (
            raw if ":" not in netloc.rpartition("@")[0] else raw.split("://", 1)[0] + "://..."
        )  # a password
        p.add(f"DATA_PRODUCT={shown!r} is not supported: use a local folder or sftp://user@host[:port]/path")
    elif fetches:
        _check_product_folder(p, raw)


# ---------------------------------------------------------------- public API
def from_env(env: Mapping[str, str] | None = None, *, command: str = "build") -> Settings:
    """Parse and check every setting; raise `ConfigError` listing every problem at once.

    Every value is checked for form whatever the command. What a value must point at is checked for the
    commands that use it: `build` and `extract` need DATA_PRODUCT's folder (or SFTP credentials) and a
    writable LANDING_DIR; all but `extract` need EDFI_DISTRICT_ID and EDFI_SCHOOL_YEARS for a real delivery
    (the embedded sample brings its own); `send` and `resync` need the Ed-Fi API settings (`require_api`).
    """
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}; expected one of {COMMANDS}")
    env = dict(os.environ if env is None else env)
    p = _Problems()
    if command in _NEEDS_PROJECT and not (PROJECT_ROOT / "dbt_project.yml").is_file():
        p.add(
            f"PROJECT_DIR={PROJECT_ROOT} holds no dbt project (no dbt_project.yml): `{command}` runs dbt "
            "and needs the project folder (models/, macros/, seeds/), which the installed package does not "
            "carry. Run edreflect-edfi from the project's checkout or set PROJECT_DIR to it; `extract`, "
            "`sample`, `send` and `resync` work from any folder"
        )

    product = _get(env, "DATA_PRODUCT") or None
    fetches = command in _FETCHES
    if product:
        _check_product(p, product, env, fetches)
    else:
        _check_sftp(p, env, False)

    warehouse, edfi_output, landing = _paths(p, env, command, fetches and bool(product))
    district, years = _district_and_years(p, env, command, product)

    engine, postgres = _engine(p, env)
    settings = Settings(
        data_product=product,
        warehouse=warehouse,
        edfi_output=edfi_output,
        landing=landing,
        district_id=district,
        school_years=years,
        cohort_identifier_max_length=_cohort_max_length(p, _get(env, "EDFI_COHORT_ID_MAX_LENGTH")),
        secrets={k: env[k] for k in SECRET_VARIABLES if env.get(k)},
        api_url=_api_url(p, _get(env, "EDFI_API_URL")),
        verify_ssl=_bool(p, "EDFI_VERIFY_SSL", _get(env, "EDFI_VERIFY_SSL"), True),
        resources=_resources(p, _get(env, "EDFI_RESOURCES")),
        allow_deletes=_allow_deletes(p, _get(env, "EDFI_ALLOW_DELETES")),
        delete_threshold=_delete_threshold(p, _get(env, "EDFI_DELETE_THRESHOLD")),
        strict=_bool(p, "STRICT", _get(env, "STRICT"), False),
        snapshot=_bool(p, "WAREHOUSE_SNAPSHOT", _get(env, "WAREHOUSE_SNAPSHOT"), True),
        engine=engine,
        postgres=postgres,
        spark_master=_spark_master(p, env) if engine == "spark" else SPARK_MASTER_DEFAULT,
    )
    if command in _NEEDS_API:
        p.lines += _api_problems(settings)
    p.raise_if_any()
    return settings


def _paths(p: _Problems, env: Mapping[str, str], command: str, lands: bool) -> tuple[Path, Path, Path]:
    """WAREHOUSE, EDFI_OUTPUT and LANDING_DIR, each checked for the commands that write there."""
    raw_wh, raw_out, raw_landing = _get(env, "WAREHOUSE"), _get(env, "EDFI_OUTPUT"), _get(env, "LANDING_DIR")
    warehouse = _path(raw_wh, DEFAULT_WAREHOUSE)
    edfi_output = _path(raw_out, DEFAULT_OUTPUT)
    landing = _path(raw_landing, DEFAULT_LANDING)
    _check_warehouse(p, raw_wh, warehouse)
    if command != "extract":
        _check_folder(p, "EDFI_OUTPUT", raw_out, edfi_output, "the Ed-Fi JSONL are written there")
    if lands:
        _check_folder(p, "LANDING_DIR", raw_landing, landing, "SFTP downloads land there")
    return warehouse, edfi_output, landing


def _district_and_years(
    p: _Problems, env: Mapping[str, str], command: str, product: str | None
) -> tuple[int | None, tuple[int, ...] | None]:
    """EDFI_DISTRICT_ID and EDFI_SCHOOL_YEARS: the embedded sample brings its own; a real delivery needs
    both for every command that renders or sends."""
    raw_district, raw_years = _get(env, "EDFI_DISTRICT_ID"), _get(env, "EDFI_SCHOOL_YEARS")
    district = _district(p, raw_district) if raw_district else None
    years = _school_years(p, raw_years) if raw_years else None
    if not product:  # the embedded sample carries its own district and years
        district = district if raw_district else SAMPLE_DISTRICT_ID
        years = years if raw_years else SAMPLE_SCHOOL_YEARS
    elif command in _NEEDS_EDFI:
        if not raw_district:
            p.add(_NO_DISTRICT)
        if not raw_years:
            p.add(_NO_YEARS)
    return district, years


def _api_problems(settings: Settings) -> list[str]:
    lines = []
    if not settings.api_url:
        lines.append(
            "EDFI_API_URL is not set: `send` and `resync` need the Ed-Fi API base URL, where its discovery "
            "document is, e.g. EDFI_API_URL=https://api.example.org/v7.3/api"
        )
    missing = [n for n in ("EDFI_CLIENT_ID", "EDFI_CLIENT_SECRET") if not settings.secrets.get(n)]
    if missing:
        lines.append(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: `send` and `resync` "
            "need the Ed-Fi API client key and secret; export EDFI_CLIENT_ID and EDFI_CLIENT_SECRET in the "
            "environment (not on the make command line, which ends up in shell history)"
        )
    return lines


def require_api(settings: Settings) -> Settings:
    """Raise `ConfigError` unless the Ed-Fi API URL and client credentials are set; returns `settings`."""
    lines = _api_problems(settings)
    if lines:
        raise ConfigError(lines)
    return settings


def require_edfi(settings: Settings) -> Settings:
    """For Settings built in code: the sample's district and years when there is no DATA_PRODUCT,
    else `ConfigError` unless EDFI_DISTRICT_ID and EDFI_SCHOOL_YEARS are set. Returns the settings to use."""
    if settings.uses_sample:
        return replace(
            settings,
            district_id=settings.district_id or SAMPLE_DISTRICT_ID,
            school_years=settings.school_years or SAMPLE_SCHOOL_YEARS,
        )
    lines = []
    if settings.district_id is None:
        lines.append(_NO_DISTRICT)
    if not settings.school_years:
        lines.append(_NO_YEARS)
    if lines:
        raise ConfigError(lines)
    return settings


def log_file(env: Mapping[str, str] | None = None) -> Path:
    """Where the CLI appends its log (full tracebacks): LOG_FILE, default logs/edreflect-edfi.log."""
    env = os.environ if env is None else env
    raw = (env.get("LOG_FILE") or "").strip()
    return Path(raw).expanduser().resolve() if raw else DEFAULT_LOG_FILE
