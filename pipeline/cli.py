"""Command line: `python -m pipeline <command>` (the Makefile targets call these).

Every failure ends in one message on stderr that says what is wrong and how to fix it, and a non-zero exit
code (1; 130 after Ctrl-C). Tracebacks never reach the terminal: they go to the log file (LOG_FILE, default
`logs/edreflect-edfi.log`, appended, rotated at 5 MiB with 3 old files kept), which the message names when
the traceback is worth reading.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import logging.handlers
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import NoReturn

from . import config as cfg

log = logging.getLogger("pipeline.cli")

LOG_MAX_BYTES = 5 * 1024 * 1024
LOG_BACKUPS = 3
_INFO_LOGGERS = ("extract", "sample_product", "edfi", "pipeline", "expectations", "paramiko")
_OUR_PACKAGES = frozenset({"extract", "sample_product", "edfi", "pipeline", "expectations"})


# ---------------------------------------------------------------- commands
def _cmd_build(args: argparse.Namespace) -> None:
    import uuid

    from .build import RunSummary, build

    # build() takes the run lock and works on a private copy of the warehouse: a program reading the live
    # warehouse does not block it, so there is nothing to check here beyond the settings.
    settings = cfg.from_env(command="build")
    t0 = time.perf_counter()
    summary = RunSummary(load_id=uuid.uuid4().hex)
    try:
        build(settings, summary)
    finally:
        if summary.stages:  # what ran before a failure is worth showing too
            summary.render()
    print(f"build succeeded in {time.perf_counter() - t0:.1f} s", file=sys.stderr)


def _cmd_extract(args: argparse.Namespace) -> None:
    import uuid
    from dataclasses import replace

    from . import engines
    from .build import RunSummary, extract_and_load
    from .lock import run_lock
    from .warehouse import workspace

    settings = cfg.from_env(command="extract")
    summary = RunSummary(load_id=uuid.uuid4().hex)
    # Lands raw in a new warehouse file (with the delivery state and history carried over), swapped in on
    # success: readers are never blocked, and no models of an older delivery are left beside the new raw.
    with run_lock(settings.warehouse), workspace(settings.warehouse, snapshot=settings.snapshot) as ws:
        work = replace(settings, warehouse=ws.work)
        # ENGINE=postgres: raw lands in `raw__next` there, swapped in with the file (or dropped)
        with engines.discarded_on_failure(work):
            extract_and_load(work, summary)
            engines.publish(work)
        ws.publish()
    summary.render()


def _cmd_sample(args: argparse.Namespace) -> None:
    from sample_product import generate

    out = Path(args.out) if args.out else cfg.SAMPLE_DIR
    generate(out, educators=args.educators, seed=args.seed)
    print(f"sample data product written to {out}", file=sys.stderr)


def _cmd_dbt(args: argparse.Namespace) -> None:
    from .dbt import NODE_COMMANDS, log_file, run_dbt
    from .lock import check_not_open_elsewhere, run_lock
    from .progress import say_dbt_log, stage

    settings = cfg.from_env(command="dbt")
    # dbt writes the live warehouse: one run at a time, like `build`, and refused at once (not after dbt
    # has parsed the project, in hundreds of lines of traceback) when another program has it open.
    with run_lock(settings.warehouse):
        check_not_open_elsewhere(settings.warehouse)
        if not args.dbt_args or args.dbt_args[0] not in NODE_COMMANDS:  # ls, show, debug...: dbt's output
            run_dbt(args.dbt_args, settings)
            return
        try:  # build, run, test...: a progress bar, as in `build`; every node's line goes to dbt's log
            with stage(f"dbt {args.dbt_args[0]}", unit="nodes") as progress:
                run_dbt(args.dbt_args, settings, progress=progress)
        finally:
            say_dbt_log(log_file(settings))


def _cmd_docs(args: argparse.Namespace) -> None:
    from .docs import build_docs, serve_docs

    site = build_docs(cfg.from_env(command="docs"))
    print(f"documentation built under {site}", file=sys.stderr)
    if args.serve:
        serve_docs(site, port=args.port)


def _cmd_send(args: argparse.Namespace) -> int:
    from .delivery import send

    settings = cfg.require_api(cfg.from_env(command="send"))
    # send() takes the run lock itself and appends lightbeam's output to the log file.
    return send(settings, args.log_path)


def _cmd_resync(args: argparse.Namespace) -> int:
    from .delivery import resync

    settings = cfg.require_api(cfg.from_env(command="resync"))
    return resync(settings)


# ---------------------------------------------------------------- logging and messages
class _Scrub(logging.Formatter):
    """Formats like logging.Formatter, then blanks every secret value (belt and braces)."""

    def __init__(self, fmt: str, secrets: list[str], *, tracebacks: bool) -> None:
        super().__init__(fmt)
        self.secrets = secrets
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if not self.tracebacks and (record.exc_info or record.exc_text or record.stack_info):
            record = logging.makeLogRecord(record.__dict__)
            record.exc_info = record.exc_text = record.stack_info = None
        return _scrub(super().format(record), self.secrets)


class _Stderr(logging.StreamHandler):
    """Whatever `sys.stderr` is at the time of the record (tests swap it), never a logging traceback."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # logging.StreamHandler assigns it; ignored
        pass

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        pass


class _LogFile(logging.handlers.RotatingFileHandler):
    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        """A log that cannot be written (disk full) must not print a traceback or stop the run."""


def _scrub(text: str, secrets: list[str]) -> str:
    for s in secrets:
        text = text.replace(s, "***")
    return text


def _secrets() -> list[str]:
    """The secret values to blank, longest first (a secret that contains another is blanked whole). Values
    under 4 characters are left out: blanking every `a` would make each message unreadable."""
    values = {v for k in cfg.SECRET_VARIABLES if len(v := os.environ.get(k) or "") >= 4}
    return sorted(values, key=len, reverse=True)


def _open_log(path: Path) -> _LogFile | None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return _LogFile(path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
    except OSError:
        return None


def _setup_logging() -> Path | None:
    """Root logger: to the log file with tracebacks, WARNING and up to stderr without them.

    Returns the log file, or None if neither LOG_FILE (or its default) nor the temp folder can take one.
    """
    root = logging.getLogger()
    for h in [h for h in root.handlers if getattr(h, "_edreflect", False)]:  # main() called again
        root.removeHandler(h)
        h.close()
    secrets = _secrets()
    wanted = cfg.log_file()
    fallback = Path(tempfile.gettempdir()) / f"edreflect-edfi-{os.getuid()}.log"
    path, handler = wanted, _open_log(wanted)
    if handler is None and fallback != wanted:
        path, handler = fallback, _open_log(fallback)
    terminal = _Stderr()
    terminal.setLevel(logging.WARNING)
    terminal.addFilter(lambda record: not getattr(record, "file_only", False))  # main() says it once
    terminal.setFormatter(_Scrub("%(levelname)s: %(message)s", secrets, tracebacks=False))
    handlers: list[logging.Handler] = [terminal]
    if handler is not None:
        handler.setLevel(logging.INFO)
        handler.setFormatter(
            _Scrub("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s", secrets, tracebacks=True)
        )
        handlers.append(handler)
    for h in handlers:
        h._edreflect = True  # type: ignore[attr-defined]
        root.addHandler(h)
    # INFO from this project and from paramiko (who connected, how it authenticated); other libraries
    # (Great Expectations logs hundreds of INFO lines per run) only from WARNING, as before.
    for name in _INFO_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)
    return path if handler is not None else None


_ELSEWHERE = "choose a writable location (WAREHOUSE, EDFI_OUTPUT, LANDING_DIR, LOG_FILE)"
_OS_HINTS = {
    errno.ENOSPC: "free some disk space and run again",
    errno.EDQUOT: "free some disk space (quota) and run again",
    errno.EROFS: f"it is on a read-only file system: {_ELSEWHERE}",
    errno.EACCES: f"fix its permissions or {_ELSEWHERE}",
    errno.EPERM: f"fix its permissions or {_ELSEWHERE}",
    errno.ENOENT: "check that the path exists",
    errno.ENOTDIR: "a part of the path is a file where a folder should be",
    errno.EISDIR: "it is a folder where a file should be",
}


def _message(exc: BaseException, log_path: Path | None) -> str:
    """The one message the user sees for `exc`."""
    from .lock import RunLockedError, WarehouseBusyError, WarehouseFolderError, describe_open_elsewhere
    from .progress import shown

    where = f"the full traceback is in {shown(log_path)}" if log_path else "no log file could be written"
    if isinstance(exc, cfg.ConfigError | RunLockedError | WarehouseBusyError | WarehouseFolderError):
        return f"error: {exc}"  # says what to fix; a traceback adds nothing
    busy = describe_open_elsewhere(str(exc))
    if busy is not None:  # DuckDB's lock error, from any stage (dbt wraps it in its own error)
        return f"error: {busy}"
    if isinstance(exc, OSError) and not _ours(exc):
        names = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
        what = f"{exc.strerror or exc}" + (f": {names}" if names else "")
        hint = _OS_HINTS.get(exc.errno or 0, "")
        return f"error: {what}" + (f" ({hint})" if hint else "") + f"; {where}"
    if isinstance(exc, MemoryError):
        return f"error: out of memory; close other programs or use a machine with more memory; {where}"
    if _ours(exc):
        return f"error: {exc}\n({where})"  # our own errors say what to fix
    if type(exc).__module__.lstrip("_").split(".")[0] == "duckdb":
        warehouse = os.environ.get("WAREHOUSE") or cfg.DEFAULT_WAREHOUSE
        return f"error: DuckDB: {exc}\n(warehouse {warehouse}; {where})"
    text = str(exc) or "(no message)"
    return (
        f"unexpected error: {type(exc).__name__}: {text}; {where}. This is a bug in edreflect-edfi: "
        f"please report it with that file."
    )


def _ours(exc: BaseException) -> bool:
    """Raised by this project's code, whose messages say what to fix."""
    return type(exc).__module__.split(".")[0] in _OUR_PACKAGES


def _say(text: str) -> None:
    with contextlib.suppress(OSError):  # stderr closed (a pipe that went away): the exit code still tells
        print(_scrub(text, _secrets()), file=sys.stderr, flush=True)


# ---------------------------------------------------------------- entry point
def run() -> NoReturn:
    """`python -m pipeline`: `main`, then the end of a normal exit without the interpreter's teardown.

    A build leaves dbt's manifest and Great Expectations' objects in memory, and the interpreter's teardown
    frees them object by object: ~0.85 s after the last line is printed (measured on the sample build), for
    nothing the operating system does not do when the process ends. So what a normal exit does that
    matters is done here (other threads joined, exit handlers run: the GX worker's close, logging's flush,
    temporary folders' cleanup; the output streams flushed), then the process ends with `os._exit`
    (tests/test_settings.py checks each of these).
    An exception out of `main` (none is expected: it turns failures into exit codes) takes the normal way."""
    import atexit
    import threading

    code = main()
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()  # CPython's own exit step (the handlers, last registered first); not public API
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed, or a pipe that went away
            stream.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="edreflect-edfi", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="the main job: extract, load, dbt, Ed-Fi export, validation").set_defaults(
        func=_cmd_build
    )
    sub.add_parser("extract", help="download (SFTP or folder) and land in raw").set_defaults(
        func=_cmd_extract
    )
    p = sub.add_parser("sample", help="write a generated sample data product")
    p.add_argument("--out", help="folder to write (default: the embedded sample's folder)")
    p.add_argument("--educators", type=int, default=cfg.SAMPLE_EDUCATORS)
    p.add_argument("--seed", type=int, default=cfg.SAMPLE_SEED)
    p.set_defaults(func=_cmd_sample)
    p = sub.add_parser("dbt", help="run dbt with this project's profile and vars (holds the run lock)")
    p.add_argument("dbt_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=_cmd_dbt)
    p = sub.add_parser("docs", help="build the dbt docs site and the Data Docs")
    p.add_argument("--serve", action="store_true")
    p.add_argument("--port", type=int, default=8080)
    p.set_defaults(func=_cmd_docs)
    sub.add_parser("send", help="send the rendered Ed-Fi JSONL to the Ed-Fi API").set_defaults(func=_cmd_send)
    sub.add_parser("resync", help="reconcile the delivery state with what the Ed-Fi API holds").set_defaults(
        func=_cmd_resync
    )

    args = parser.parse_args(argv)
    log_path = _setup_logging()
    # Where commands may append their own tool output (lightbeam's); /dev/null if no log can be written.
    args.log_path = log_path or Path(os.devnull)
    log.info(
        "start: %s %s (pid %d)", parser.prog, " ".join(sys.argv[1:] if argv is None else argv), os.getpid()
    )
    try:
        code = args.func(args)
    except KeyboardInterrupt:
        log.info("%s interrupted by the user", args.command, exc_info=True)
        _say("interrupted (Ctrl-C): the run stopped; run the command again to start over")
        return 130
    except Exception as exc:
        # A settings problem needs no traceback; everything else keeps it, in the log file only.
        trace = not isinstance(exc, cfg.ConfigError)
        log.error("%s failed: %s", args.command, exc, exc_info=trace, extra={"file_only": True})
        _say(_message(exc, log_path))
        return 1
    code = int(code or 0)
    log.info("%s finished with exit code %d", args.command, code)
    return code
