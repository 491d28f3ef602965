"""`make send` and `make resync`: the Ed-Fi delivery under the run lock, on a full copy of the live warehouse.

`edfi.send` does the work on the copy it is given and publishes it when the state changed; this module
holds the lock and the copy (`pipeline.lock`, `pipeline.warehouse`), so `edfi` never imports the pipeline.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from edfi.send import resync_state, send_pending

from . import engines
from .config import Settings
from .lock import run_lock
from .warehouse import Workspace, workspace


@contextlib.contextmanager
def _state_copy(settings: Settings) -> Iterator[Workspace]:
    """Under the run lock, a full copy of the live warehouse; discarded unless `edfi.send` published it."""
    with (
        run_lock(settings.warehouse),
        workspace(
            settings.warehouse, copy_all=True, output=settings.edfi_output, snapshot=settings.snapshot
        ) as ws,
    ):
        yield ws


def send(settings: Settings, log: Path) -> int:
    """Send what the last build planned and the API has not accepted yet; 0 when everything was accepted."""
    with _state_copy(settings) as ws:
        rc = send_pending(settings, ws, log)
        # ENGINE=postgres: the live file's state (new, or as it was) copied there, still under the lock;
        # a copy a failed run left stale is healed by the next send
        engines.after_state_change(settings)
        return rc


def resync(settings: Settings) -> int:
    """Reconcile `accepted` with what the API holds; the next `make send` applies the resulting plan."""
    with _state_copy(settings) as ws:
        rc = resync_state(settings, ws)
        engines.after_state_change(settings)  # ENGINE=postgres: as after a send
        return rc
