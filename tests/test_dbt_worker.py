"""A build's dbt in its own process (pipeline/dbt_worker.py): it parses as it starts, runs the command when
asked, shows dbt's progress and records in the build's process, and never outlives the build."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _example_build import built_example

from pipeline.dbt import DbtError, log_file
from pipeline.dbt_worker import DbtProcess

pytestmark = pytest.mark.slow


class _Shown:
    """What the build's stage was shown (the terminal's progress line, recorded)."""

    def __init__(self) -> None:
        self.counts: list[tuple[int, int | None]] = []
        self.notes: list[str] = []

    def count(self, done: int, total: int | None) -> None:
        self.counts.append((done, total))

    def note(self, text: str) -> None:
        self.notes.append(text)


def _runs(log: Path) -> list[str]:
    """dbt's invocations in its log, each from its `Running with dbt=` line."""
    return log.read_text(errors="replace").split("Running with dbt=")[1:] if log.exists() else []


def test_the_worker_parses_ahead_runs_the_command_and_shows_its_progress_and_warnings(
    tmp_path_factory: pytest.TempPathFactory, caplog: pytest.LogCaptureFixture
) -> None:
    settings = built_example(tmp_path_factory, "dbt-worker")
    log = log_file(settings)
    before = len(_runs(log))
    args = ["build", "--select", "stg_edreflect__groups", "--exclude-resource-type", "unit_test"]
    dbt = DbtProcess(args, settings)
    try:
        deadline = time.monotonic() + 120  # the parse is done without being asked for the run
        while len(_runs(log)) == before and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(_runs(log)) == before + 1 and "Concurrency:" not in _runs(log)[-1]
        shown = _Shown()
        statuses = dbt.run(progress=shown)
    finally:
        dbt.stop()
    assert dbt.returncode == 0  # it ended by itself once its input closed
    runs = _runs(log)[before:]
    assert len(runs) == 2 and "Concurrency:" in runs[1], "the run should use the parse made ahead"
    assert len(statuses) >= 2 and set(statuses) <= {"success", "pass", "warn"}, statuses  # model, its test
    assert shown.notes[0] == "parsing the project"
    assert shown.counts[-1] == (len(statuses), len(statuses))
    assert [done for done, _ in shown.counts] == sorted(done for done, _ in shown.counts)

    # dbt's own warnings reach the build's log (here: a selection that matches nothing)
    caplog.set_level(logging.WARNING)
    dbt = DbtProcess(["build", "--select", "no_such_model"], settings)
    try:
        assert dbt.run(progress=_Shown()) == []
    finally:
        dbt.stop()
    warned = [r.getMessage() for r in caplog.records if r.name == "pipeline.dbt"]
    assert any("no_such_model" in m for m in warned), warned


def test_a_build_skips_only_the_adapter_debug_events_no_log_keeps() -> None:
    import dbt.adapters.base.connections as base_connections
    import dbt.adapters.sql.connections as sql_connections
    from dbt.adapters.events.types import ConnectionUsed, SQLQuery
    from dbt_common.events.base_types import BaseEvent, EventLevel
    from dbt_common.events.functions import fire_event

    from pipeline.dbt import _is_debug_event, _Unlogged, _unlogged_adapter_events

    build = ["--log-level-file", "info", "--log-level", "none", "build"]  # a build's (`_full_args`)
    with _unlogged_adapter_events(build):
        assert sql_connections.SQLQuery is _Unlogged and sql_connections.ConnectionUsed is _Unlogged
        assert base_connections.NewConnection is _Unlogged
        assert sql_connections.fire_event is not fire_event
    assert sql_connections.SQLQuery is SQLQuery and sql_connections.ConnectionUsed is ConnectionUsed
    assert sql_connections.fire_event is fire_event and base_connections.fire_event is fire_event

    # an event class it cannot tell the level of (another dbt version's) is left alone
    class Unknown(BaseEvent):
        def level_tag(self) -> EventLevel:
            raise AttributeError("pb_msg")

    assert not _is_debug_event(Unknown, BaseEvent, EventLevel.DEBUG)
    assert _is_debug_event(SQLQuery, BaseEvent, EventLevel.DEBUG)
    # a log that keeps debug lines (DBT_LOG_LEVEL_FILE=debug, or dbt printing its own) gets every event
    for args in (["--log-level-file", "debug", "--log-level", "none", "build"], ["--quiet", "build"]):
        with _unlogged_adapter_events(args):
            assert sql_connections.SQLQuery is SQLQuery


def test_dbt_json_schemas_are_kept_for_the_next_process_and_check_as_dbt_builds_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dbt.contracts.graph.nodes import ModelNode
    from dbt_common.dataclass_schema import ValidationError, dbtClassMixin

    from pipeline.dbt import _kept_json_schemas

    monkeypatch.setenv("DBT_PARSE_CACHE_DIR", str(tmp_path))
    real = dbtClassMixin.__dict__["json_schema"]
    built = ModelNode.json_schema()  # dbt's own
    with _kept_json_schemas():
        assert ModelNode.json_schema() == built
    assert dbtClassMixin.__dict__["json_schema"] is real, "dbt's own is back after the run"
    [kept] = tmp_path.glob("json-schemas-*.json")

    # the next process reads the file and builds none; dbt's check is the same (a bad node still fails)
    def never(cls: type) -> dict:
        raise AssertionError(f"{cls.__name__}'s schema was built again")

    monkeypatch.setattr(dbtClassMixin, "json_schema", classmethod(never))
    with _kept_json_schemas():
        assert ModelNode.json_schema() == built
        with pytest.raises(ValidationError):
            ModelNode.validate({"name": 1})

    # a file that cannot be read costs the building, never the run
    monkeypatch.setattr(dbtClassMixin, "json_schema", real)
    kept.write_text("{not json", encoding="utf-8")
    with _kept_json_schemas():
        assert ModelNode.json_schema() == built
    assert ModelNode.__name__ in kept.read_text(encoding="utf-8"), "and is written whole again"
    # DBT_PARSE_CACHE_DIR=0 keeps nothing
    monkeypatch.setenv("DBT_PARSE_CACHE_DIR", "0")
    kept.unlink()
    with _kept_json_schemas():
        assert dbtClassMixin.__dict__["json_schema"] is real
    assert not kept.exists()


def test_dbt_templates_are_compiled_once_for_the_next_process_and_render_as_jinja_compiles_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jinja2
    from dbt_common.clients.jinja import get_template

    from pipeline import dbt as pipeline_dbt

    monkeypatch.setenv("DBT_PARSE_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("DBT_MACRO_DEBUGGING", raising=False)
    real = jinja2.Environment.compile
    source = "{% set twice = word ~ word %}{% for c in [twice] %}{{ c | upper }}{% endfor %}{{ 1 + 1 }}"

    def render(native: bool = False) -> object:
        return get_template(source, {}, native=native).render({"word": "ab"})

    expected, expected_native = render(), render(native=True)
    assert (expected, expected_native) == ("ABAB2", "ABAB2")
    with pipeline_dbt._kept_templates():
        assert jinja2.Environment.compile is not real
        assert render() == expected
        # the code is Jinja's for that environment: dbt's native one compiles the same source to other code
        text, native = (get_template("", {}, native=n).environment for n in (False, True))
        for env in (text, native, text):
            assert env.compile(source) == real(env, source)
        assert text.compile(source) != native.compile(source)
    assert jinja2.Environment.compile is real, "Jinja's own is back after the run"
    [kept] = tmp_path.glob("jinja-*.marshal")

    # the next process compiles nothing it has kept, and renders the same
    def never(self: object, source: object, *args: object, **kwargs: object) -> object:
        raise AssertionError(f"{source!r} was compiled again")

    monkeypatch.setattr(jinja2.Environment, "compile", never)
    with pipeline_dbt._kept_templates():
        assert render() == expected
        assert render(native=True) == expected_native
    monkeypatch.setattr(jinja2.Environment, "compile", real)

    # a template with an error is still Jinja's error, and nothing is kept for it
    with pipeline_dbt._kept_templates(), pytest.raises(jinja2.TemplateSyntaxError):
        jinja2.Environment().from_string("{% if %}")
    # a file that cannot be read costs the compiling, never the run, and is written whole again
    kept.write_bytes(b"not marshal")
    with pipeline_dbt._kept_templates():
        assert render() == expected
    assert kept.stat().st_size > 100
    # past the limit, the file keeps only what this process used
    monkeypatch.setattr(pipeline_dbt, "_KEPT_TEMPLATES_MAX", 1)
    with pipeline_dbt._kept_templates():
        assert get_template("{{ 2 + 2 }}", {}).render({}) == "4"
    import marshal

    assert len(marshal.loads(kept.read_bytes())) == 1
    # DBT_PARSE_CACHE_DIR=0 keeps nothing
    monkeypatch.setenv("DBT_PARSE_CACHE_DIR", "0")
    kept.unlink()
    with pipeline_dbt._kept_templates():
        assert jinja2.Environment.compile is real
        assert render() == expected
    assert not kept.exists()


def test_a_worker_that_dies_is_an_error_naming_its_exit_code_and_the_log(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    settings = built_example(tmp_path_factory, "dbt-worker-dies")
    dbt = DbtProcess(["build", "--select", "staging"], settings)
    try:
        os.kill(dbt.pid, signal.SIGKILL)
        with pytest.raises(DbtError, match=r"dbt's process stopped \(exit code -9\)") as error:
            dbt.run(progress=None)
        assert str(log_file(settings)) in str(error.value)
    finally:
        dbt.stop()


def test_a_build_that_stops_before_dbt_ends_the_worker_at_once(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    settings = built_example(tmp_path_factory, "dbt-worker-unused")
    dbt = DbtProcess(["build"], settings)
    t0 = time.monotonic()
    dbt.stop()
    assert dbt.returncode == -signal.SIGKILL and time.monotonic() - t0 < 10


def test_the_worker_dies_with_the_build_that_started_it(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A build killed outright (SIGKILL: no finally runs) takes its dbt process with it, so dbt never goes
    on writing into a copy of the warehouse that the next build removes and makes again."""
    settings = built_example(tmp_path_factory, "dbt-worker-orphan")
    build = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pipeline import config\n"
            "from pipeline.dbt_worker import DbtProcess\n"
            "settings = config.from_env({'WAREHOUSE': sys.argv[1]})\n"
            "dbt = DbtProcess(['build'], settings)\n"
            "print(dbt.pid, flush=True)\n"
            "time.sleep(600)\n",
            str(settings.warehouse),
        ],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        worker = int(build.stdout.readline())
        assert _alive(worker)
        build.kill()
        build.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker), "dbt's process outlived the build that started it"
    finally:
        if build.poll() is None:
            build.kill()
            build.wait(timeout=30)
        build.stdout.close()


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped by its new parent, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
