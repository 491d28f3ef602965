"""Run a command with a wall-clock timer and a sampler of its process tree's resident memory.

The sampler sums RSS over the process and all its descendants every `SAMPLE_SECONDS`: that is the memory
the machine must have for the job, which a single process's `ru_maxrss` would understate when the job
forks (sftp spawns ssh; dbt may spawn threads, not processes, but the sum is right either way).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

SAMPLE_SECONDS = 0.1
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def tests_module(name: str):
    """A module of tests/ (`_sshd`, `_postgres`: the real servers the tests start), shared with the bench."""
    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / "tests" / f"{name}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@dataclass
class Measured:
    returncode: int
    wall_seconds: float
    peak_rss_bytes: int
    stderr_tail: str = ""
    child: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.child.get("ok", True)

    @property
    def seconds(self) -> float:
        """The child's own timing of the project call when it gives one, else the wall time."""
        return float(self.child.get("seconds", self.wall_seconds))

    @property
    def peak_bytes(self) -> int:
        """The larger of the sampled tree peak and the kernel's max RSS of the main process."""
        return max(self.peak_rss_bytes, int(self.child.get("maxrss_self_bytes", 0)))


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += p.memory_info().rss
    return total


def run_measured(
    cmd: list[str], env: dict[str, str] | None = None, timeout: float = 3600.0, cwd: Path | None = None
) -> Measured:
    """Run `cmd` to completion (killed after `timeout`), sampling its tree's RSS."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        popen = subprocess.Popen(
            cmd,
            env=env,
            cwd=cwd or PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        peak = 0
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            try:
                proc = psutil.Process(popen.pid)
            except psutil.NoSuchProcess:
                return
            while not stop.is_set():
                peak = max(peak, _tree_rss(proc))
                stop.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            rc = popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(popen.pid, 9)
            rc = popen.wait(timeout=30)
        wall = time.perf_counter() - t0
        stop.set()
        sampler.join(timeout=5)
        err.seek(0)
        tail = err.read()[-4000:].decode(errors="replace")
    return Measured(returncode=rc, wall_seconds=wall, peak_rss_bytes=peak, stderr_tail=tail)


def run_child(task: str, args: dict[str, Any], env: dict[str, str], work: Path, timeout: float) -> Measured:
    """Run `bench._child <task>` and attach the JSON it writes."""
    work.mkdir(parents=True, exist_ok=True)
    args_file, out_file = work / f"{task}.args.json", work / f"{task}.out.json"
    args_file.write_text(json.dumps(args))
    out_file.unlink(missing_ok=True)
    m = run_measured(
        [sys.executable, "-m", "bench._child", task, str(args_file), str(out_file)], env, timeout
    )
    if out_file.exists():
        m.child = json.loads(out_file.read_text())
    else:
        m.child = {
            "ok": False,
            "error": f"child exited {m.returncode} without a result: {m.stderr_tail[-600:]}",
        }
    return m
