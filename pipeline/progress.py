"""What the person at the terminal sees while a run works: one progress line per stage.

Each stage is a rich progress bar (on stderr) that ends as one line: a tick or a cross, the stage, its bar,
what it counted (dbt: nodes done of total) and its time. A stage that knows its total (dbt, once it has
parsed the project) fills its bar; one that does not shows a pulsing bar. Warnings printed during a stage
go above its bar. Outside a terminal (a pipe, CI, pytest) rich draws nothing while the stage runs and
prints its final line once, so a log gets one line per stage, never thousands.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console, RenderableType
from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, Task, TextColumn
from rich.text import Text

console = Console(stderr=True)
log = logging.getLogger(__name__)


class _Mark(SpinnerColumn):
    """A spinner while the stage runs, then its mark (✓ or ✗)."""

    def render(self, task: Task) -> RenderableType:
        mark = task.fields.get("mark")
        return Text.from_markup(mark) if mark else super().render(task)


class _Seconds(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.elapsed or 0.0:6.1f} s", style="progress.elapsed")


class Stage:
    """The handle a running stage updates: `count(done, total)`; `note(text)` for what it is doing."""

    def __init__(self, progress: Progress, task_id, unit: str) -> None:
        self._progress = progress
        self._task = task_id
        self._unit = unit

    def count(self, done: int, total: int | None) -> None:
        counted = f"{done:,}/{total:,} {self._unit}" if total else ""
        self._progress.update(self._task, completed=done, total=total, counted=counted)

    def note(self, text: str) -> None:
        self._progress.update(self._task, counted=text)


@contextlib.contextmanager
def stage(name: str, unit: str = "") -> Iterator[Stage]:
    """Show `name` with a progress bar while the block runs; it ends with ✓ (or ✗ if the block raised)."""
    progress = Progress(
        _Mark(),
        TextColumn("[bold]{task.description:<18}"),
        BarColumn(bar_width=30),
        TextColumn("{task.fields[counted]:<22}"),
        _Seconds(),
        console=console,
        transient=False,
        redirect_stdout=True,
        redirect_stderr=True,
    )
    task_id = progress.add_task(name, total=None, mark="", counted="")
    handle = Stage(progress, task_id, unit)
    log.info("stage %s: started", name)  # the log file says what ran when (the terminal only shows it)
    progress.start()
    task = progress.tasks[0]
    try:
        yield handle
    except BaseException:
        if task.total is None:  # an empty bar, not a pulsing one, for a stage that failed
            progress.update(task_id, total=1, completed=0)
        progress.update(task_id, mark="[red]✗")
        log.info("stage %s: failed after %.1f s", name, task.elapsed or 0.0)
        raise
    else:
        if task.total is None:  # a stage that never knew its total: a full bar says it is done
            progress.update(task_id, total=1, completed=1)
        progress.update(task_id, mark="[green]✓")
        log.info("stage %s: done in %.1f s", name, task.elapsed or 0.0)
    finally:
        progress.stop_task(task_id)
        progress.stop()


def shown(path: Path) -> str:
    """A path as a user would type it: relative to the current folder when inside it, else absolute."""
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def say_dbt_log(log: Path) -> None:
    """The line after a dbt stage that names dbt's log (never wrapped: a path cut in two cannot be copied)."""
    console.print(f"dbt log: {shown(log)}", highlight=False, soft_wrap=True)
