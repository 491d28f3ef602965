"""A real headless Chromium (Debian `chromium`) for tests: pages after their scripts ran, and screenshots.

One browser per `Browser` (a fresh profile directory, closed with it), driven over the DevTools protocol;
every page a test opens and screenshots is a tab of it. Flags: root needs --no-sandbox; the rest keep
Chromium from phoning home (no internet here) and from touching the user's profile.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def chromium_path() -> str:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("no Chromium found: `apt-get install -y chromium` (CI installs it in .ci/run)")


# Every Chromium this module starts: headless, no sandbox (root in CI), nothing fetched in the background.
HEADLESS_FLAGS = (
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
)


class Browser:
    """One headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4: no extra package).

    `open(url)` loads a page, waits for its load event and for the network to go quiet, and keeps every
    URL the page requested; `Page.evaluate` runs JavaScript in it (computed styles, table rows). Names
    other than 127.0.0.1/localhost do not resolve (`--host-resolver-rules`), so nothing leaves the machine
    even when a page asks: the requests list still shows the attempt.
    """

    def __init__(self, *, timeout: float = 60) -> None:
        self.timeout = timeout
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire() -> None:  # in the child: the protocol's fds are 3 (commands in) and 4 (replies out)
            a = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self._proc = subprocess.Popen(
            [
                chromium_path(),
                *HEADLESS_FLAGS,
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
                f"--user-data-dir={self._profile.name}",
                "--remote-debugging-pipe",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(to_child_r, from_child_w, 3, 4),
            preexec_fn=wire,  # noqa: PLW1509 - the test process starts no threads that fork
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._next_id = 0
        self.events: list[dict] = []

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):  # it may exit before it answers
            self.send("Browser.close", timeout=10)
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=10)
        os.close(self._to_child)
        os.close(self._from_child)
        self._profile.cleanup()

    def _read(self, deadline: float) -> dict | None:
        """The next message, or None when the deadline passed."""
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_child], [], [], left)[0]:
                return None
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def send(
        self, method: str, params: dict | None = None, *, session: str | None = None, timeout=None
    ) -> dict:
        self._next_id += 1
        msg: dict = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._read(deadline)
            if reply is None:
                raise TimeoutError(f"chromium did not answer {method}")
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_events(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (msg := self._read(deadline)) is not None:
            self.events.append(msg)

    def open(self, url: str, *, quiet_ms: int = 300, budget: float = 20) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Network.enable", session=session)
        self.send("Page.enable", session=session)
        start = len(self.events)
        self.send("Page.navigate", {"url": url}, session=session)
        page = Page(self, session, url)
        deadline = time.monotonic() + budget
        loaded, last_activity = False, time.monotonic()
        while time.monotonic() < deadline:
            before = len(self.events)
            self.wait_events(0.05)
            mine = [e for e in self.events[start:] if e.get("sessionId") == session]
            loaded = loaded or any(e.get("method") == "Page.loadEventFired" for e in mine)
            if len(self.events) > before:
                last_activity = time.monotonic()
            pending = page._pending(mine)
            if loaded and not pending and time.monotonic() - last_activity > quiet_ms / 1000:
                break
        page.requests = [
            e["params"]["request"]["url"]
            for e in self.events[start:]
            if e.get("sessionId") == session and e.get("method") == "Network.requestWillBeSent"
        ]
        return page


class Page:
    def __init__(self, browser: Browser, session: str, url: str) -> None:
        self.browser, self.session, self.url = browser, session, url
        self.requests: list[str] = []

    @staticmethod
    def _pending(events: list[dict]) -> set[str]:
        started = {e["params"]["requestId"] for e in events if e.get("method") == "Network.requestWillBeSent"}
        done = {
            e["params"]["requestId"]
            for e in events
            if e.get("method") in ("Network.loadingFinished", "Network.loadingFailed")
        }
        return started - done

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (JSON-serializable results only)."""
        res = self.browser.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=self.session
        )
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expression}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def screenshot(self, path: Path, *, width: int = 1400, height: int = 1800) -> Path:
        """A PNG of the page as a person would see it in a `width` x `height` window."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.browser.send("Page.bringToFront", session=self.session)  # a tab behind others is not painted
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
        self.browser.send("Emulation.setDeviceMetricsOverride", metrics, session=self.session)
        shot = self.browser.send("Page.captureScreenshot", {"format": "png"}, session=self.session)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def wait_for(self, expression: str, *, timeout: float = 20):
        """Poll a JavaScript expression until it is truthy (a single-page app rendering after its fetches)."""
        deadline = time.monotonic() + timeout
        while not (value := self.evaluate(expression)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.url}: still false after {timeout}s: {expression}")
            time.sleep(0.1)
        return value
