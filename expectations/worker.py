"""Great Expectations in a process of its own while a build runs.

Measured on the embedded sample (2 cores): GX's import (~1.8 s), storing each layer's result and rendering
the Data Docs (~1 s) held the build's Python thread, while dbt, bound by Python's GIL, keeps about one
core busy and left the other idle. So a build's first validation starts one worker process (`gx_worker`;
later builds of the same process reuse it): the worker imports GX and stores the raw layer's result
while dbt runs, and renders the Data Docs beside the last steps. The build's own process never imports
GX, and a build that stops before validating anything never starts the worker.

What decides the build stays in the build's process: the findings (DuckDB computes them) and their
verdicts, and the `quality.*` rows. The export's payload checks are GX's own expectations, so for that
layer the build waits for the worker's answer. `finish` waits for everything sent (a build calls it
before publishing, so the Data Docs and GX's stores are complete when it reports success) and raises the
first failure as a `GxWorkerError`.

The worker is `python -m expectations.worker`, fed pickled calls of this package's functions on a pipe,
one at a time in the order sent (not multiprocessing: its spawn imports the parent's `__main__` again,
which a script without a main guard, or a program read from stdin, does not survive). It ends with
`os._exit` when its input closes, without tearing down what GX loaded (~1 s).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import subprocess
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from pipeline.frames import read_frame, write_frame


class GxWorkerError(RuntimeError):
    """GX's part of a validation failed in the worker process (the message says what)."""


class GxWorker:
    """One worker process running `runner.store_findings`, `check_frame` and `render_data_docs`, in the
    order they are sent (`validate_layer(..., gx=worker)`)."""

    in_process = False

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None  # started by the first call: a build that stops
        # before its first validation (a setting, the lock, the download) never pays for GX's import
        self._waiting: deque[Future] = deque()  # sent, in order: the worker answers in that order
        self._lock = threading.Lock()  # the queue above (the reader takes only this one)
        self._writing = threading.Lock()  # one call on the pipe at a time, in the queue's order
        self._sent: list[Future] = []
        self._reader: threading.Thread | None = None

    def _start(self) -> subprocess.Popen:
        if self._proc is None:
            # this very package, wherever it is imported from (a checkout, an installed CLI)
            path = [str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "expectations.worker"],
                env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)},
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
            self._reader = threading.Thread(
                target=self._read, args=(self._proc,), name="gx-worker-answers", daemon=True
            )
            self._reader.start()
        return self._proc

    @property
    def broken(self) -> bool:
        return self._proc is not None and self._proc.poll() is not None

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future:
        """`fn(*args)` in the worker (a function of this package; arguments that pickle); the future's
        failure is a GxWorkerError saying what went wrong."""
        future: Future = Future()
        payload = pickle.dumps((fn.__module__, fn.__qualname__, args), protocol=pickle.HIGHEST_PROTOCOL)
        with self._writing:
            with self._lock:
                proc = self._start()
                self._waiting.append(future)
                self._sent.append(future)
            try:  # without the queue's lock: a full pipe waits for the worker, whose answers are read
                write_frame(proc.stdin, payload)
            except OSError as exc:  # the worker is gone: the reader settles what it left
                with self._lock:
                    if future in self._waiting:
                        self._waiting.remove(future)
                        future.set_exception(
                            GxWorkerError(f"Great Expectations' worker process stopped: {exc}")
                        )
        return future

    def _read(self, proc: subprocess.Popen) -> None:
        while True:
            frame = read_frame(proc.stdout)
            with self._lock:
                if frame is None:  # the worker ended: whatever it did not answer failed
                    code = proc.wait()
                    while self._waiting:
                        self._waiting.popleft().set_exception(
                            GxWorkerError(f"Great Expectations' worker process stopped (exit code {code})")
                        )
                    return
                future = self._waiting.popleft()
            ok, value, trace = pickle.loads(frame)
            if ok:
                future.set_result(value)
            else:
                error = GxWorkerError(f"Great Expectations failed: {value}")
                error.add_note(f"in the GX worker process:\n{trace}")  # the log file shows it with the error
                future.set_exception(error)

    def finish(self) -> None:
        """Wait for everything sent so far; the first failure is raised (a GxWorkerError)."""
        sent, self._sent = self._sent, []
        for future in sent:
            future.result()

    def drain(self) -> None:
        """Wait for everything sent so far, failures included (a build that goes wrong reports its own
        error; this only makes sure its Data Docs are complete before it returns)."""
        sent, self._sent = self._sent, []
        for future in sent:
            with contextlib.suppress(Exception):
                future.result()

    def close(self) -> None:
        """Stop the worker once it has answered everything sent (it exits when its input closes)."""
        if self._proc is None:
            return
        with contextlib.suppress(OSError):
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)

    def kill(self) -> None:
        """Stop the worker now (Ctrl-C): what was not answered is dropped."""
        if self._proc is None:
            return
        self._proc.kill()
        self._proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)


_shared: GxWorker | None = None


@contextlib.contextmanager
def gx_worker() -> Iterator[GxWorker]:
    """The process's GX worker for the length of a build: started by the first build (a command runs one),
    kept for the next ones of the same process (the tests run many: GX is imported once), stopped when the
    process exits. On the way out of a build, failing or not, everything the build sent has been answered;
    a Ctrl-C stops the worker at once."""
    global _shared
    if _shared is None or _shared.broken:
        _shared = GxWorker()
        atexit.register(_shared.close)
    worker = _shared
    try:
        yield worker
    except KeyboardInterrupt:
        _shared = None
        worker.kill()
        raise
    finally:
        worker.drain()


# ------------------------------------------------------------------------------------------- the worker


def _serve() -> None:
    """Answer each call read from stdin, in order, on the stdout this process started with (anything the
    called code prints goes to stderr instead); end at once when stdin closes."""
    import importlib
    import signal

    from .runner import defer_scipy_stats

    # Ctrl-C at the terminal reaches the whole process group: the build stops this worker itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    defer_scipy_stats()  # before the first call imports GX (store_findings imports part of it first)
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    calls = sys.stdin.buffer
    while (frame := read_frame(calls)) is not None:
        try:
            module, name, args = pickle.loads(frame)
            target: Any = importlib.import_module(module)
            for part in name.split("."):
                target = getattr(target, part)
            answer = pickle.dumps((True, target(*args), None), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # the build reports it (and logs this traceback in its log file)
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            answer = pickle.dumps((False, detail, traceback.format_exc()))
        try:
            write_frame(answers, answer)
        except OSError:  # the build is gone (killed): nobody to answer
            break
    with contextlib.suppress(OSError):
        answers.close()
    sys.stderr.flush()
    os._exit(0)  # nothing to tear down: every answer is written


if __name__ == "__main__":
    _serve()
