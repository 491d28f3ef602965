"""A real headless Chromium (Debian `chromium`) for tests: the DOM after scripts ran, and screenshots.

Each call starts its own browser with a fresh profile directory and waits for it to exit (bounded by a
timeout), so nothing outlives the call. Flags: root needs --no-sandbox; the rest keep Chromium from
phoning home (no internet here) and from touching the user's profile.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def chromium_path() -> str:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("no Chromium found: `apt-get install -y chromium` (CI installs it in .ci/run)")


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        cmd = [
            chromium_path(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *args,
        ]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def dump_dom(url: str, *, budget_ms: int = 8000, timeout: float = 120) -> str:
    """The DOM as serialized after the page's scripts ran for `budget_ms` of virtual time."""
    res = _run(["--virtual-time-budget=" + str(budget_ms), "--dump-dom", url], timeout)
    if res.returncode != 0 or not res.stdout.strip():
        raise RuntimeError(f"chromium --dump-dom {url} failed ({res.returncode}): {res.stderr[-2000:]}")
    return res.stdout


def screenshot(
    url: str, path: Path, *, budget_ms: int = 8000, size: str = "1400,1800", timeout: float = 120
) -> Path:
    """A PNG of the page as a person would see it (after `budget_ms` of virtual time)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    res = _run(
        [f"--virtual-time-budget={budget_ms}", f"--window-size={size}", f"--screenshot={path}", url], timeout
    )
    if res.returncode != 0 or not path.is_file() or path.stat().st_size == 0:
        raise RuntimeError(f"chromium --screenshot {url} failed ({res.returncode}): {res.stderr[-2000:]}")
    return path
