"""`python -m pipeline <command>` as a user runs it (`make build` and the others), for the tests that drive
the command line end to end: from the project folder, output captured, bounded in time."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def run_pipeline(
    *args: str, env: Mapping[str, str], timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=PROJECT_ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
