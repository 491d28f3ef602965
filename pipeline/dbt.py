"""Run dbt in-process (dbtRunner) against the configured warehouse (a build: in its dbt process,
pipeline/dbt_worker.py, which parses ahead with `parse_ahead`).

dbt's files live beside the live warehouse, one folder per warehouse (`<warehouse>.dbt/`): `target/` (the
manifest, run_results.json and the partial parse that makes every build after the first skip most of
parsing) and `logs/dbt.log` (dbt's full log, every node and every query). A build works in a copy of the
warehouse (`<warehouse>.next`, see `pipeline.warehouse`) but uses the live warehouse's folder, so the folder
is the same for every build of that warehouse and two warehouses never share one. dbt run on the live file
itself (`make dbt`, the docs) keeps its own `target-live/` there (see `target_dir`).

A new warehouse starts from the partial parse of another: dbt runs in the warehouse's folder with the
warehouse named by its file name alone (`WAREHOUSE=edreflect.duckdb`), so its profile, which dbt's partial
parse checks, is the same for every warehouse of that name; the newest partial parse of each profile and
vars is kept in `target/parse-cache/` of the project (`DBT_PARSE_CACHE_DIR` elsewhere, `0` for none) and
copied into a target folder that has none. dbt still checks it (project files, vars, profile, version) and
parses in full when anything differs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import textwrap
import threading
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extract.contract import PROJECT_ROOT

from .config import Settings
from .engines import dbt_target_args, engine_vars
from .progress import shown

if TYPE_CHECKING:
    from .progress import Stage

log = logging.getLogger(__name__)

# The commands that run nodes: they report progress (nodes done of total) instead of a line per node.
NODE_COMMANDS = frozenset({"build", "run", "test", "seed", "snapshot"})
WORK_SUFFIX = ".next"  # pipeline.warehouse.work_path: a build's copy of the live warehouse
# the newest partial parse per profile and vars; DBT_PARSE_CACHE_DIR moves it, `0` turns it off
PARSE_CACHE = PROJECT_ROOT / "target" / "parse-cache"


class DbtError(RuntimeError):
    pass


# the run's settings for the models, in dbt's environment (macros/run_setting.sql reads them)
SETTING_PREFIX = "EDREFLECT_SETTING_"


def run_settings(settings: Settings) -> dict[str, object]:
    """What the models read of this run's settings (`run_setting(name)` in the SQL). Passed in the
    environment, not as dbt vars: dbt parses the whole project again whenever a var changes (7-10 s of
    CPU), and parses only the files that read an environment variable when it changes."""
    return {
        "edfi_district_id": settings.district_id,
        "edfi_school_years": list(settings.school_years or ()),
        "edfi_cohort_identifier_max_length": settings.cohort_identifier_max_length,
        # the local dates of the analyst marts; an IANA zone name, read here (not a pipeline setting)
        "district_timezone": os.environ.get("DISTRICT_TIMEZONE") or "America/Chicago",
    }


def live_warehouse(warehouse: Path) -> Path:
    """The live warehouse that `warehouse` is, or is the build's copy of (`<live>.next`)."""
    from .warehouse import work_path

    path = Path(warehouse)
    if path.name.endswith(WORK_SUFFIX):
        live = path.with_name(path.name[: -len(WORK_SUFFIX)])
        if work_path(live) == path:
            return live
    return path


def dbt_dir(settings: Settings) -> Path:
    """dbt's folder for this warehouse: `<live warehouse>.dbt` (absolute)."""
    live = live_warehouse(Path(settings.warehouse)).absolute()
    return live.with_name(live.name + ".dbt")


def target_dir(settings: Settings) -> Path:
    """dbt's target folder for this warehouse: manifest.json, run_results.json, the partial parse.

    A build (dbt on the build's copy) uses `target/`; dbt on the live file itself (`make dbt`, the docs)
    uses `target-live/`: dbt parses the whole project again when the warehouse path in its profile changes,
    so one shared folder would cost the next build a full parse after every `make dbt`.
    """
    on_copy = live_warehouse(Path(settings.warehouse)) != Path(settings.warehouse)
    return dbt_dir(settings) / ("target" if on_copy else "target-live")


def log_file(settings: Settings) -> Path:
    """dbt's full log for this warehouse (dbt appends to it and rotates it)."""
    return dbt_dir(settings) / "logs" / "dbt.log"


def manifest_nodes(settings: Settings) -> dict[str, Any]:
    """The nodes of dbt's manifest for this warehouse (its last dbt run, `target_dir`); empty when there is
    none or it cannot be read."""
    try:
        manifest = json.loads((target_dir(settings) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return (manifest.get("nodes") if isinstance(manifest, dict) else None) or {}


def drop_previous_models(settings: Settings) -> int:
    """In a build's copy of the live warehouse, drop the models and seeds the last build made (its
    manifest, `target/manifest.json`) before dbt builds them again; returns how many were dropped.

    dbt rebuilds every one of them anyway: an existing table costs it a rename to a backup, a rename into
    place and a drop, and the copy holds old and new data side by side until the drop (measured on the
    embedded sample: 3 to 5 s of CPU a build). What else lives in the file (raw, the delivery state, the
    quality history, relations the manifest does not name) is left alone; a build that fails discards the
    copy, so the live warehouse keeps its models. DuckDB only: the other engines build in new schemas."""
    if settings.engine != "duckdb" or live_warehouse(Path(settings.warehouse)) == Path(settings.warehouse):
        return 0
    # no earlier build (or an unreadable manifest): nothing to drop, dbt replaces what exists as usual
    nodes = manifest_nodes(settings)
    owned = {uid: n for uid, n in nodes.items() if n.get("resource_type") in ("model", "seed")}
    depth: dict[str, int] = {}

    def depth_of(uid: str) -> int:  # the longest chain of models below it (dependents are dropped first)
        if uid not in depth:
            depth[uid] = 0  # a cycle (there is none in a dbt DAG) ends here
            parents = (owned[uid].get("depends_on") or {}).get("nodes") or []
            depth[uid] = 1 + max((depth_of(p) for p in parents if p in owned), default=0)
        return depth[uid]

    built = {(n["schema"], n.get("alias") or n["name"]): depth_of(uid) for uid, n in owned.items()}
    from extract.warehouse import open_warehouse, transaction

    con = open_warehouse(settings.warehouse)
    try:
        found = [
            (schema, name, kind)
            for schema, name, kind in con.execute(
                "select table_schema, table_name, table_type from information_schema.tables"
                " where table_catalog = current_database()"
            ).fetchall()
            if (schema, name) in built
        ]
        found.sort(key=lambda r: -built[(r[0], r[1])])
        with transaction(con):
            for schema, name, kind in found:
                quoted = ".".join('"' + part.replace('"', '""') + '"' for part in (schema, name))
                con.execute(f"drop {'view' if kind == 'VIEW' else 'table'} {quoted}")
    finally:
        con.close()
    return len(found)


def _release_warehouse() -> None:
    """dbt-duckdb keeps its DuckDB instance open in this process after a run. Close it: the file is then
    checkpointed (whole without its write-ahead log, ready to be renamed into place), and later
    connections of this process open the file now at the path instead of a cached, renamed one."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    DuckDBConnectionManager.close_all_connections()


def option_given(args: Sequence[str], option: str) -> bool:
    """Whether `args` already set `option` (`--x value` or `--x=value`)."""
    return _option(args, option) is not None


def _parse_options(args: Sequence[str]) -> list[str]:
    """The options of `args` that change what dbt parses or where it keeps it (vars, target, target and log
    folders), as given, for the parse that precedes the command."""
    options = ("--vars", "--target", "-t", "--target-path", "--log-path")
    return [token for option in options for token in _given(args, option)]


def _given(args: Sequence[str], option: str) -> list[str]:
    """The arguments that give `option` in dbt arguments (`--x value` or `--x=value`), empty when absent."""
    for i, a in enumerate(args):
        if a.startswith(option + "="):
            return [a]
        if a == option and i + 1 < len(args):
            return [a, args[i + 1]]
    return []


def _option(args: Sequence[str], option: str) -> Path | None:
    """The value of `option` in dbt arguments (`--x value` or `--x=value`), None when absent."""
    given = _given(args, option)
    if not given:
        return None
    return Path(given[1] if len(given) == 2 else given[0].split("=", 1)[1])


def accepts_option(args: Sequence[str], option: str) -> bool:
    """Whether the dbt (sub)command in `args` takes `option` (`debug` takes no --target-path, ...)."""
    from dbt.cli.main import cli

    command = cli
    for word in args:
        sub = getattr(command, "commands", {}).get(word)
        if word.startswith("-") or sub is None:
            break
        command = sub
    return command is not cli and any(option in p.opts for p in command.params)


class _Watcher:
    """dbt event callback: counts finished nodes for the progress bar, keeps dbt's error messages, and
    passes dbt's own warnings (not test results: the validation reads those) to the log and terminal.

    dbt calls it from its worker threads, and an exception here would break dbt's run: it never raises.
    """

    RESULT_EVENTS = frozenset({"LogTestResult", "LogModelResult", "LogSeedResult", "LogSnapshotResult"})

    def __init__(self, stage: Stage | None) -> None:
        self.stage = stage  # None: dbt prints its own lines (and warnings) on the console
        self.finished: set[str] = set()
        self.total: int | None = None
        self.errors: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, msg) -> None:  # an EventMsg
        try:
            self._handle(msg)
        except Exception:  # noqa: BLE001 - a progress bar must never stop dbt
            log.debug("dbt event callback failed", exc_info=True)

    def _handle(self, msg) -> None:
        name, level = msg.info.name, msg.info.level
        # The bar counts the nodes dbt announces before running (models, seeds, snapshots, data tests):
        # dbt adds unit tests to its own "N of M" later, and not consistently, so they are not counted.
        if name == "ConcurrencyLine":  # parsing done
            with self._lock:
                self.total = int(msg.data.node_count)
            self._show()
        elif name == "NodeFinished":  # a node run or skipped
            unique_id = msg.data.node_info.unique_id
            if not unique_id.startswith("unit_test."):
                with self._lock:
                    self.finished.add(unique_id)
                self._show()
        elif name == "UnableToPartialParse":
            log.info("dbt: %s", msg.info.msg)
        elif level == "error":
            self.errors.append(msg.info.msg)
        elif level == "warn" and self.stage is not None and not self._about_results(name):
            log.warning("dbt: %s", msg.info.msg)

    def _about_results(self, name: str) -> bool:
        """A test's or node's warning, which the validation reports from run_results.json."""
        return name in self.RESULT_EVENTS or name.startswith("RunResult")

    def _show(self) -> None:
        if self.stage is not None:
            self.stage.count(len(self.finished), self.total)


def run_dbt(
    args: Sequence[str], settings: Settings, *, quiet: bool = False, progress: Stage | None = None
) -> object:
    """`dbt <args>` with the project, profile, warehouse and settings (`run_settings`, `engine_vars`) of this
    run; raises on failure.

    dbt's target and log folders are this warehouse's (`target_dir`, `log_file`) unless `args` name
    others. With `progress` (a stage of `pipeline.progress`), a command that runs nodes prints nothing of
    its own: the stage's bar counts the nodes, and a failure names each failed node and why, and the log.
    """
    with _settings_in_environment(settings):
        return _run_dbt(args, settings, quiet=quiet, progress=progress)


def _run_dbt(args: Sequence[str], settings: Settings, *, quiet: bool, progress: Stage | None) -> object:
    from dbt.cli.main import dbtRunner

    global _ahead
    _dbt_environment()
    silent = progress is not None and bool(args) and args[0] in NODE_COMMANDS
    full, log_path = _full_args(args, settings, silent=silent, quiet=quiet)
    if settings.engine == "spark":  # dbt-spark runs in its own environment (.venv-spark)
        from .spark import run_dbt as run_dbt_on_spark

        return run_dbt_on_spark(full, args, settings, log_path / "dbt.log", progress)
    watcher = _Watcher(progress if silent else None)
    if progress is not None:
        progress.note("parsing the project")
    ahead, _ahead = _ahead, None
    with _dbt_here(full, settings), _unlogged_adapter_events(full):
        if (silent or quiet) and args and args[0] in NODE_COMMANDS:
            # Parsed apart, its manifest handed to the command (dbt's documented reuse of a parsed
            # manifest): dbt writes manifest.json once, when the command ends, instead of also after
            # parsing (0.7 s of Python in a sample build, profiled; its dbt stage 2-4 s shorter, four
            # builds interleaved with the code before); a parse error fails the command as before.
            # Not when dbt prints its own lines (`make dbt`): they would start twice.
            parse = _parse_args(args, settings, silent=silent, quiet=quiet)
            if ahead is not None and ahead.parse == parse and ahead.settings == run_settings(settings):
                res = ahead.result
                watcher.errors.extend(ahead.errors)
            else:
                res = dbtRunner(callbacks=[watcher]).invoke(parse)
            if res.success:
                res = dbtRunner(manifest=res.result, callbacks=[watcher]).invoke(full)
        else:
            res = dbtRunner(callbacks=[watcher]).invoke(full)
    if progress is not None and watcher.total is None:
        progress.note("")  # nothing to run (dbt said why in a warning)
    if not res.success:
        raise DbtError(_failure(args, res, watcher, log_path / "dbt.log", settings))
    return res.result


@dataclass(frozen=True)
class _Parsed:
    parse: list[str]  # the parse's full arguments, which `run_dbt` compares with its own
    settings: dict[str, object]  # and the run's settings it was parsed with (in dbt's environment)
    result: Any  # dbt's result of it (a failed parse fails the command as its own parse would)
    errors: list[str]  # dbt's error messages of it


# the parse `parse_ahead` made, for the next `run_dbt` of this process; taken by it whatever it runs
_ahead: _Parsed | None = None


def parse_ahead(args: Sequence[str], settings: Settings, progress: Stage) -> None:
    """Parse the project now as `run_dbt(args, settings, progress=...)` will, so that it starts with the
    parse done: a build's dbt process (pipeline/dbt_worker.py) parses while the build loads and checks raw.
    Never raises: a parse that fails, fails that `run_dbt` with dbt's own error as its own parse would."""
    global _ahead
    _ahead = None
    if settings.engine == "spark" or not args or args[0] not in NODE_COMMANDS:
        return  # dbt-spark parses in its own process; other commands parse with their run
    from dbt.cli.main import dbtRunner

    _dbt_environment()
    full, _ = _full_args(args, settings, silent=True, quiet=False)
    parse = _parse_args(args, settings, silent=True, quiet=False)
    watcher = _Watcher(progress)
    with _settings_in_environment(settings), _dbt_here(full, settings):
        res = dbtRunner(callbacks=[watcher]).invoke(parse)
    _ahead = _Parsed(parse=parse, settings=run_settings(settings), result=res, errors=list(watcher.errors))


@contextlib.contextmanager
def _dbt_here(full: Sequence[str], settings: Settings) -> Iterator[None]:
    """dbt runs `full` in this process, on the warehouse of `settings`: from the shared partial parse,
    in the warehouse's folder, and the warehouse released afterwards whatever happened."""
    try:
        with (
            _shared_parse(full, settings),
            _kept_json_schemas(),
            _kept_templates(),
            _in_warehouse_folder(Path(settings.warehouse)),
        ):
            yield
    finally:
        _release_warehouse()


# dbt's adapter modules that build debug events for every statement they run (the connection's use, the
# SQL, its status, the commit, ...)
_ADAPTER_EVENT_MODULES = ("dbt.adapters.sql.connections", "dbt.adapters.base.connections")


class _Unlogged:
    """Stands for a debug event that no log of the run keeps: built for nothing, fired to nobody."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass


@contextlib.contextmanager
def _unlogged_adapter_events(full: Sequence[str]) -> Iterator[None]:
    """While dbt runs `full` with no debug level anywhere (a build: nothing on the console, dbt's log file
    at info), its adapter's debug events are not built.

    dbt builds each event (a protobuf message, converted twice) before asking whether any log wants it:
    the SQL, its status and the connection's use, about twenty per node; profiled in a sample build's dbt
    worker, ~10 % of its Python while it runs the nodes, for lines its info-level file drops anyway. Only
    the adapter modules' debug event classes are replaced (by `_Unlogged`), for the run's duration; the
    events the run's callback reads (node started and finished, warnings, errors) are dbt's own and
    untouched. DBT_LOG_LEVEL_FILE=debug keeps them all.
    """
    if str(_option(full, "--log-level")) != "none" or str(_option(full, "--log-level-file")) != "info":
        yield
        return
    import importlib

    from dbt_common.events.base_types import BaseEvent, EventLevel

    saved: list[tuple[object, str, object]] = []
    for name in _ADAPTER_EVENT_MODULES:
        module = importlib.import_module(name)
        real_fire = getattr(module, "fire_event", None)
        if real_fire is None:
            continue
        for attr, value in list(vars(module).items()):
            if _is_debug_event(value, BaseEvent, EventLevel.DEBUG):
                saved.append((module, attr, value))
                setattr(module, attr, _Unlogged)
        saved.append((module, "fire_event", real_fire))
        module.fire_event = _fire_logged(real_fire)
    try:
        yield
    finally:
        for module, attr, value in saved:
            setattr(module, attr, value)


def _is_debug_event(value: object, base: type, debug: object) -> bool:
    """Whether `value` is one of dbt's event classes whose events are of the debug level; a class this
    cannot tell about (another dbt version's) is left alone: the build must never depend on it."""
    if not (isinstance(value, type) and issubclass(value, base) and value is not base):
        return False
    try:
        return value.level_tag(value.__new__(value)) == debug  # the level is the class's, not the event's
    except Exception:  # noqa: BLE001
        return False


def _fire_logged(fire: Callable[..., None]) -> Callable[..., None]:
    """dbt's `fire_event`, passing over the events `_unlogged_adapter_events` did not build."""

    def fire_event(event: object, *args: object, **kwargs: object) -> None:
        if not isinstance(event, _Unlogged):
            fire(event, *args, **kwargs)

    return fire_event


def _dbt_environment() -> None:
    os.environ.setdefault("DBT_PROFILES_DIR", str(PROJECT_ROOT))
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


def _parse_args(args: Sequence[str], settings: Settings, *, silent: bool, quiet: bool) -> list[str]:
    """The full arguments of the parse that precedes `args` (the options that change what dbt parses)."""
    parse = ["parse", "--no-write-json", *_parse_options(args)]
    return _full_args(parse, settings, silent=silent, quiet=quiet)[0]


def _full_args(
    args: Sequence[str], settings: Settings, *, silent: bool, quiet: bool
) -> tuple[list[str], Path]:
    """`args` with the project, profile, vars, target folder, engine and log options of this run, and the
    folder of dbt's log."""
    full = [*args, "--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(PROJECT_ROOT)]
    # The dbt vars are the engine's (where models are built: ENGINE=postgres builds beside the live schemas;
    # none on DuckDB), the same for every command that takes them: vars are part of what dbt's partial parse
    # keys on.
    dbt_vars = engine_vars(settings)
    if dbt_vars and not option_given(args, "--vars") and accepts_option(args, "--vars"):
        full += ["--vars", json.dumps(dbt_vars)]
    if not option_given(args, "--target-path") and accepts_option(args, "--target-path"):
        full += ["--target-path", str(target_dir(settings))]
    full += dbt_target_args(args, settings)  # ENGINE: `--target postgres`; nothing on DuckDB
    log_path = _option(args, "--log-path")
    if log_path is None:
        log_path = log_file(settings).parent
        full = ["--log-path", str(log_path), *full]
    if silent:
        # Nothing on the console. The file gets what dbt would have printed (a line per node, errors in
        # full), not its debug level (every query, 12 MB a build: dbt would rotate it within one build);
        # DBT_LOG_LEVEL_FILE=debug asks for that.
        full = ["--log-level", "none", *full]
        if not os.environ.get("DBT_LOG_LEVEL_FILE"):
            full = ["--log-level-file", "info", *full]
    elif quiet:
        full = ["--quiet", *full]
    return full, log_path


@contextlib.contextmanager
def _settings_in_environment(settings: Settings) -> Iterator[None]:
    """The run's settings (`run_settings`) in dbt's environment while it runs, one variable each
    (`EDREFLECT_SETTING_<NAME>`; dbt-spark's process inherits them); what was there before afterwards."""
    values = {SETTING_PREFIX + name.upper(): _setting_text(v) for name, v in run_settings(settings).items()}
    before = {name: os.environ.get(name) for name in values}
    try:
        for name, text in values.items():
            if text:
                os.environ[name] = text
            else:
                os.environ.pop(name, None)  # the macro's default
        yield
    finally:
        for name, text in before.items():
            if text is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = text


def _setting_text(value: object) -> str:
    """A setting as the macros read it from the environment: lists comma-separated, none empty."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


@contextlib.contextmanager
def _in_warehouse_folder(warehouse: Path) -> Iterator[None]:
    """dbt opens the warehouse by its file name from its folder (the profile reads WAREHOUSE), so the
    profile dbt's partial parse checks is the same for every warehouse of that name. Afterwards WAREHOUSE
    holds the absolute path and the working folder is the caller's again."""
    path = warehouse.absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    before = os.getcwd()
    os.environ["WAREHOUSE"] = path.name
    os.chdir(path.parent)
    try:
        yield
    finally:
        os.chdir(before)
        os.environ["WAREHOUSE"] = str(path)


def _parse_key(full: Sequence[str], settings: Settings) -> str:
    """What dbt's partial parse checks beside the project's files: dbt's version, the profile (the
    warehouse's name, the target and its server) and the vars."""
    from dbt.version import __version__

    parts = (
        __version__,
        Path(settings.warehouse).name,
        str(_option(full, "--target") or ""),
        repr(settings.postgres),
        str(_option(full, "--vars") or ""),
    )
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_size, st.st_mtime_ns


@contextlib.contextmanager
def _shared_parse(full: Sequence[str], settings: Settings) -> Iterator[None]:
    """A target folder without a partial parse gets the newest one of the same profile and vars; what
    dbt saves is kept for the next warehouse. A cache that cannot be read or written costs a full parse,
    never a failure (copies are atomic: parallel runs see a whole file or none)."""
    target, cache = _option(full, "--target-path"), _parse_cache()
    if target is None or cache is None:
        yield
        return
    mine = Path(target) / "partial_parse.msgpack"
    cached = cache / f"{_parse_key(full, settings)}.msgpack"
    if not mine.exists() and cached.exists():
        with contextlib.suppress(OSError):
            mine.parent.mkdir(parents=True, exist_ok=True)
            _copy_atomically(cached, mine)
    before = _stamp(mine)
    try:
        yield
    finally:
        if _stamp(mine) not in (None, before):
            with contextlib.suppress(OSError):
                cache.mkdir(parents=True, exist_ok=True)
                _copy_atomically(mine, cached)


@contextlib.contextmanager
def _kept_json_schemas() -> Iterator[None]:
    """dbt's JSON schemas of its node classes, kept beside the parse cache instead of built in every process.

    dbt checks each node it parses against its class's JSON schema, which mashumaro builds from the
    dataclass once per class and process: 24 classes, 1.1-1.3 s of a whole parse of this project (7-8 s),
    ~0.45 s of a build after its partial parse (measured by timing `json_schema` in `dbt parse` and `dbt
    build`). The schemas depend only on the installed packages, so they are kept in one file per installed
    dbt, dbt-common, mashumaro and Python, each under its class's module, name and fields; the check itself
    is dbt's, unchanged. A file that is missing, unreadable or of other packages only costs the building,
    as before; new schemas are written atomically for the next process."""
    cache = _parse_cache()
    if cache is None:
        yield
        return
    from dbt_common.dataclass_schema import dbtClassMixin

    real = dbtClassMixin.__dict__["json_schema"]
    path = cache / f"json-schemas-{_packages_key('mashumaro')}.json"
    try:
        kept: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        kept = {}
    known = len(kept)
    mine: dict[type, Any] = {}

    def json_schema(cls: type) -> Any:
        schema = mine.get(cls)
        if schema is None:
            key = _schema_key(cls)
            schema = kept.get(key)
            if schema is None:
                schema = real.__func__(cls)
                # as the next process reads it, the same in every process (one that is not JSON: as built)
                with contextlib.suppress(TypeError, ValueError):
                    schema = kept[key] = json.loads(json.dumps(schema))
            mine[cls] = schema
        return schema

    dbtClassMixin.json_schema = classmethod(json_schema)
    try:
        yield
    finally:
        dbtClassMixin.json_schema = real
        if len(kept) > known:
            with contextlib.suppress(OSError):  # the next process builds them again
                cache.mkdir(parents=True, exist_ok=True)
                _replace_atomically(path, lambda part: part.write_text(json.dumps(kept), encoding="utf-8"))


@contextlib.contextmanager
def _kept_templates() -> Iterator[None]:
    """dbt's Jinja templates compiled once and kept beside the parse cache, not compiled in every process.

    dbt compiles each macro it calls (once per process) and the SQL of every node it runs, a test's
    `{{ test_unique(**_dbt_generic_test_kwargs) }}` once per test, from Jinja source to Python code:
    profiled in a sample build's dbt worker, ~3 s of its threads' Python for 913 templates. Jinja's own
    bytecode cache serves only templates from a loader, and dbt compiles from strings, so `Environment.
    compile` is wrapped for the run's duration: the code of a source is looked up first in this process,
    then in one file per installed Python, dbt and Jinja (`marshal`ed code, as Python keeps its own
    bytecode), under the source and everything in the environment that Jinja's compiler reads (its
    class, extensions, delimiters, whitespace options, filters and tests, finalize and autoescape). Jinja
    compiles the same source the same way every time, so the kept code is what it would build; the
    rendering itself is dbt's, unchanged. A file that is missing, unreadable or of other packages only
    costs the compiling, as before; new code is written atomically for the next process, and a file past
    `_KEPT_TEMPLATES_MAX` entries is started again with this process's own. DBT_MACRO_DEBUGGING (dbt's
    compiled-source debugging) turns it off. Measured on the sample, three interleaved pairs of next
    builds: 13.9 / 15.3 / 12.6 s against 16.4 / 16.4 / 15.4 s (dbt's stage 9.0 / 9.7 / 8.2 s against 10.7 /
    11.3 / 10.6 s); the file held 913 templates, 2.3 MB, read in 5 ms."""
    cache = _parse_cache()
    if cache is None or os.environ.get("DBT_MACRO_DEBUGGING"):
        yield
        return
    import marshal

    import jinja2

    real = jinja2.Environment.compile
    path = cache / f"jinja-{_packages_key('jinja2')}.marshal"
    try:
        kept = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        kept = {}
    if not isinstance(kept, dict):
        kept = {}
    known = len(kept)
    mine: dict[str, Any] = {}

    def compile(  # noqa: A001 (Jinja's name)
        self: Any,
        source: Any,
        name: Any = None,
        filename: Any = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        if raw or not isinstance(source, str):
            return real(self, source, name, filename, raw, defer_init)
        key = _template_key(self, source, name, filename, defer_init)
        code = mine.get(key)
        if code is None:
            blob = kept.get(key)
            if isinstance(blob, bytes):
                with contextlib.suppress(ValueError, EOFError, TypeError):
                    code = marshal.loads(blob)
            if not isinstance(code, types.CodeType):
                code = real(self, source, name, filename, raw, defer_init)
                with contextlib.suppress(ValueError):
                    kept[key] = marshal.dumps(code)
            mine[key] = code
        return code

    jinja2.Environment.compile = compile
    try:
        yield
    finally:
        jinja2.Environment.compile = real
        if len(kept) > known:
            if len(kept) > _KEPT_TEMPLATES_MAX:  # sources edited away pile up: keep what this process used
                kept = {k: v for k, v in kept.items() if k in mine}
            with contextlib.suppress(OSError):  # the next process compiles them again
                cache.mkdir(parents=True, exist_ok=True)
                _replace_atomically(path, lambda part: part.write_bytes(marshal.dumps(kept)))


_KEPT_TEMPLATES_MAX = 5000  # ~12 MB of code; this project's build uses ~900


def _template_key(env: Any, source: str, name: object, filename: object, defer_init: bool) -> str:
    """The source and what Jinja's lexer, parser and code generator read from the environment."""
    digest = hashlib.sha256(_environment_key(env).encode())
    digest.update(repr((name, filename, defer_init)).encode())
    digest.update(b"\0")
    digest.update(source.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


_ENVIRONMENT_KEYS: dict[tuple, str] = {}  # what an environment's settings are, by the objects that set them


def _environment_key(env: Any) -> str:
    """What Jinja's lexer, parser and code generator read from `env`, as text the next process finds the
    same; worked out once per set of settings (dbt makes an environment for every template it compiles)."""
    settings = (
        type(env),
        env.code_generator_class,
        tuple(env.extensions),
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        env.optimized,
        env.is_async,
        env.autoescape,
        env.finalize,
    )
    try:
        identity: tuple | None = (*settings, frozenset(env.filters.items()), frozenset(env.tests.items()))
        known = _ENVIRONMENT_KEYS.get(identity)  # type: ignore[arg-type]
    except TypeError:  # a filter or test that cannot be hashed: worked out every time
        identity = known = None
    if known is not None:
        return known
    text = repr(
        (
            *[_qualname(value) for value in settings[:2]],
            sorted(env.extensions),
            *settings[3:17],
            *[_qualname(value) for value in settings[17:]],
            # the code passes a filter or test its context, eval context or environment as its marker says
            sorted((n, repr(getattr(f, "jinja_pass_arg", None))) for n, f in env.filters.items()),
            sorted((n, repr(getattr(f, "jinja_pass_arg", None))) for n, f in env.tests.items()),
        )
    )
    if identity is not None:
        if len(_ENVIRONMENT_KEYS) >= 64:  # environments whose filters are made anew each time
            _ENVIRONMENT_KEYS.clear()
        _ENVIRONMENT_KEYS[identity] = text
    return text


def _qualname(value: object) -> object:
    if callable(value):
        return (
            f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', type(value).__qualname__)}"
        )
    return value


def _packages_key(*packages: str) -> str:
    """A cache file's key: the Python (version and bytecode tag), dbt-core, dbt-common and `packages`, the
    installed versions of what makes what the file keeps."""
    import platform
    import sys
    from importlib.metadata import version

    parts = [
        platform.python_version(),
        sys.implementation.cache_tag or "",
        *(version(p) for p in ("dbt-core", "dbt-common", *packages)),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def _schema_key(cls: type) -> str:
    """A class's module, name and fields (name and type each): a class made at run time with the same name
    but other fields gets a schema of its own."""
    import dataclasses

    fields = (
        [(f.name, repr(f.type)) for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls) else []
    )
    digest = hashlib.sha256(repr(fields).encode()).hexdigest()[:16]
    return f"{cls.__module__}.{cls.__qualname__}:{digest}"


def _parse_cache() -> Path | None:
    raw = os.environ.get("DBT_PARSE_CACHE_DIR", "").strip()
    if raw.lower() in {"0", "off", "no", "false"}:
        return None
    return Path(raw).absolute() if raw else PARSE_CACHE


def _copy_atomically(source: Path, dest: Path) -> None:
    _replace_atomically(dest, lambda part: shutil.copyfile(source, part))


def _replace_atomically(dest: Path, write: Callable[[Path], object]) -> None:
    """`write` a file of this process and thread beside `dest`, then rename it over `dest`: parallel runs
    see a whole file or none; a failed write leaves nothing behind."""
    part = dest.with_name(f"{dest.name}.{os.getpid()}.{threading.get_ident()}.part")
    try:
        write(part)
        os.replace(part, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()


def _failure(args: Sequence[str], res, watcher: _Watcher, log: Path, settings: Settings) -> str:
    """Which nodes failed and why (from dbt's results; a failed test with what it found), else dbt's error,
    and where the full log is."""
    failed = []
    if res.result is not None and hasattr(res.result, "results"):
        for r in res.result.results:
            if str(r.status) in {"error", "fail"}:
                found = _found(r.node, settings) if str(r.status) == "fail" else None
                failed.append(f"{r.node.unique_id}: {r.message}" + (f"\n  {found}" if found else ""))
    if not failed:
        failed = [str(res.exception)] if res.exception else watcher.errors[-5:]
    detail = "\n".join(textwrap.indent(f.rstrip(), "  ") for f in failed) or "  dbt gave no reason"
    return f"dbt {args[0] if args else ''} failed:\n{detail}\n(dbt's full log: {shown(log)})"


def _found(node, settings: Settings) -> str | None:
    """What a failed test found: its compiled query run again on the warehouse dbt built (still there: a
    failed build discards its copy afterwards), its first rows as a person reads them; None when there is
    no query or it cannot be read (the failure's message stands without it)."""
    sql = getattr(node, "compiled_code", None)
    if getattr(node, "resource_type", None) != "test" or not sql:
        return None
    try:
        import duckdb

        from expectations.dbt_results import failing_rows_text
        from expectations.sql import models_for

        con = duckdb.connect(str(settings.warehouse), read_only=True)
        try:
            with models_for(settings, con) as models:
                return failing_rows_text(models, sql)
        finally:
            con.close()
    except Exception:  # noqa: BLE001 - an aid to the message, never a second failure
        log.debug("could not read what %s found", node.unique_id, exc_info=True)
        return None
