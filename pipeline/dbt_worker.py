"""A build's dbt in a process of its own, started when the build starts.

Before its first node, dbt's part of a build spent ~2.8 s of the build's Python thread on what needs
nothing of the delivery: importing dbt (~1.8 s) and parsing the project (~1.0 s, dbt's partial parse), on
the embedded sample after the build had fetched, loaded and checked raw. So a build starts this worker
first: it imports dbt and parses the project (`pipeline.dbt.parse_ahead`) on the other core while the
build's process loads the delivery and checks raw (DuckDB), and runs `dbt build` with that parse once raw
has passed; the build's process waits for it, showing its progress. ENGINE=spark keeps running dbt-spark
from the build's process (it is a process of its own already).

The worker is `python -m pipeline.dbt_worker`, fed pickled calls on its stdin like the GX worker
(expectations/worker.py; both use pipeline/frames.py). It answers on its stdout: what dbt's run shows
(the stage's count and notes, log records) as it happens, then the call's result or error. It serves one
build: the build's process closes its input after the build's answer, or kills it when the build stops
before dbt (nothing of the worker is then used). It ignores Ctrl-C (the build stops it) and dies with the
build's process (Linux's parent-death signal), so a killed build never leaves dbt writing into the next
build's copy of the warehouse.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from .config import Settings
from .dbt import DbtError, log_file, run_dbt
from .frames import read_frame, write_frame

if TYPE_CHECKING:
    from .progress import Stage

log = logging.getLogger(__name__)


# dbt's locks are named semaphores (its `spawn` context), which multiprocessing's resource tracker, a
# process of the worker's own, unlinks if the worker cannot: when the build kills it (a build that stops
# before dbt, Ctrl-C) or at its parent's death. The tracker then said so on the build's terminal
# ("UserWarning: resource_tracker: There appear to be 2 leaked semaphore objects to clean up at shutdown"),
# about a clean-up it had just done. This filter (the tracker runs with the worker's -W options) keeps
# that one warning off the terminal; a worker that ends by itself releases them first
# (`_release_named_semaphores`).
_QUIET_TRACKER = "ignore::UserWarning:multiprocessing.resource_tracker"


class DbtProcess:
    """`dbt <args>` of one build in the worker process: the parse starts with the worker, `run` runs it."""

    def __init__(self, args: Sequence[str], settings: Settings) -> None:
        self.args = list(args)
        self.settings = replace(settings, secrets={})  # dbt reads none (PGPASSWORD stays in the environment)
        root = str(Path(__file__).resolve().parents[1])  # this very package, wherever it is imported from
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
        self._proc = subprocess.Popen(
            [sys.executable, "-W", _QUIET_TRACKER, "-m", "pipeline.dbt_worker", str(os.getpid())],
            env={**os.environ, "PYTHONPATH": path},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._answered = False  # the run's answer read: the worker waits for its input to close
        # the parse starts now; its answer is read by `run`, the records it sends meanwhile wait in the pipe
        self._call("parse", logging.getLogger().getEffectiveLevel())

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        """The worker's exit code once it has ended (negative: the signal that ended it), else None."""
        return self._proc.poll()

    def _call(self, name: str, *args: Any) -> None:
        with contextlib.suppress(OSError):  # the worker is gone: `run` says so when it reads no answer
            write_frame(self._proc.stdin, pickle.dumps((name, self.args, self.settings, *args)))

    def run(self, progress: Stage | None) -> list[str]:
        """Run the command; the status of each node's result (dbt's). Raises DbtError as `run_dbt` does."""
        self._answer(progress, last=False)  # the parse's (its records included)
        self._call("run")
        return self._answer(progress, last=True)

    def _answer(self, progress: Stage | None, *, last: bool) -> Any:
        """Show what the worker sends until its answer to a call; `last`: the run's, after which the
        worker only waits for its input to close."""
        while (frame := read_frame(self._proc.stdout)) is not None:
            kind, *body = pickle.loads(frame)
            if kind == "count" and progress is not None:
                progress.count(*body)
            elif kind == "note" and progress is not None:
                progress.note(*body)
            elif kind == "log":
                name, level, message = body
                logging.getLogger(name).log(level, "%s", message)
            elif kind == "answer":
                self._answered = last
                ok, value, trace = body
                if ok:
                    return value
                if trace:  # not dbt's own failure: where in the worker, for the log file
                    error = DbtError(f"dbt failed: {value}")
                    error.add_note(f"in dbt's process:\n{trace}")
                    raise error
                raise DbtError(value)
        code = self._proc.wait()
        log = log_file(self.settings)
        raise DbtError(f"dbt's process stopped (exit code {code}) before it answered; dbt's log: {log}")

    def stop(self) -> None:
        """End the worker: once it has answered the run, by closing its input; at once otherwise (the build
        stopped before dbt, or while dbt runs: Ctrl-C, an error of the build's own)."""
        with contextlib.suppress(OSError):
            self._proc.stdin.close()
        if not self._answered:
            self._proc.kill()
        try:
            self._proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        with contextlib.suppress(OSError):
            self._proc.stdout.close()


class InProcess:
    """`run_dbt` in the build's own process (ENGINE=spark: dbt-spark runs in a process of its own)."""

    def __init__(self, args: Sequence[str], settings: Settings) -> None:
        self.args = list(args)
        self.settings = settings

    def run(self, progress: Stage | None) -> list[str]:
        return statuses(run_dbt(self.args, self.settings, progress=progress))

    def stop(self) -> None:
        pass


DbtForBuild = DbtProcess | InProcess


@contextlib.contextmanager
def dbt_for_build(args: Sequence[str], settings: Settings) -> Iterator[DbtForBuild]:
    """dbt for one build, its parse started now; stopped on the way out, whatever happened (`stop` may
    be called before: a second call does nothing)."""
    dbt = InProcess(args, settings) if settings.engine == "spark" else DbtProcess(args, settings)
    try:
        yield dbt
    finally:
        dbt.stop()


def statuses(result: object) -> list[str]:
    """The status of each node's result of a dbt run (`success`, `pass`, `warn`, `error`, `skipped`, ...)."""
    return [str(r.status) for r in getattr(result, "results", [])]


# ------------------------------------------------------------------------------------------- the worker


class _Answers:
    """The worker's stdout frames, written whole from any thread (dbt calls back from its own)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, *message: Any) -> None:
        payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            write_frame(self._stream, payload)


class _Stage:
    """The build's stage as the worker sees it: what dbt's run shows goes to the build's process."""

    def __init__(self, answers: _Answers) -> None:
        self._answers = answers

    def count(self, done: int, total: int | None) -> None:
        self._answers.send("count", done, total)

    def note(self, text: str) -> None:
        self._answers.send("note", text)


class _Records(logging.Handler):
    """The worker's log records, to be logged by the build's process (its log file and terminal)."""

    def __init__(self, answers: _Answers) -> None:
        super().__init__()
        self._answers = answers

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._answers.send("log", record.name, record.levelno, record.getMessage())
        except Exception:  # noqa: BLE001 - a record that cannot be sent is not worth stopping dbt
            self.handleError(record)


def _die_with(parent: int) -> None:
    """Be killed when the build's process ends (Linux: prctl PR_SET_PDEATHSIG), and end now if it already
    has. Elsewhere the worker ends when its input closes after the call it runs."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


def _serve(parent: int) -> None:
    from . import dbt

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the process group: the build stops us
    _die_with(parent)
    answers = _Answers(os.fdopen(os.dup(1), "wb"))
    os.dup2(2, 1)  # what dbt or a library prints goes to stderr, never into the answers
    sys.stdout = sys.stderr
    stage = _Stage(answers)
    calls = sys.stdin.buffer
    while (frame := read_frame(calls)) is not None:
        try:
            name, args, settings, *extra = pickle.loads(frame)
            if name == "parse":
                root = logging.getLogger()
                root.addHandler(_Records(answers))
                root.setLevel(extra[0])
                dbt.parse_ahead(args, settings, stage)
                answer: tuple = (True, None, None)
            else:
                answer = (True, statuses(dbt.run_dbt(args, settings, progress=stage)), None)
        except DbtError as exc:
            answer = (False, str(exc), None)
        except Exception as exc:  # the build reports it (and logs this traceback in its log file)
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            answer = (False, detail, traceback.format_exc())
        try:
            answers.send("answer", *answer)
        except OSError:  # the build is gone: nobody to answer
            break
    _release_named_semaphores()
    sys.stderr.flush()
    os._exit(0)  # nothing else to tear down: every answer is written


def _release_named_semaphores() -> None:
    """Unlink the semaphores dbt made (its locks come from the `spawn` context, which names them), as the
    interpreter's exit would: `os._exit` skips that, and left them to the resource tracker (which warned
    about them on every build's terminal, see `_QUIET_TRACKER`). multiprocessing runs exactly this at exit
    (its finalizers of priority >= 0)."""
    from multiprocessing import util

    with contextlib.suppress(Exception):  # the worker's end must not fail over a lock's name
        util._run_finalizers(0)


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
