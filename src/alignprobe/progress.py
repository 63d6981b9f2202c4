"""Progress for long steps outside Inspect's own display (training, merges, downloads, loads).

Counted work (training steps, downloaded bytes) gets a rich progress bar with the time
left on a terminal, and a plain line about every :data:`PLAIN_INTERVAL_S` seconds elsewhere
(CI logs, pipes: one unwrapped line each, see plain_output.py), so a step never sits
silent for minutes. Work that cannot be counted
(loading a checkpoint, merging an adapter) gets a line when it starts and one with the
time it took when it ends. Everything goes to stderr; results stay on stdout.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from alignprobe.plain_output import stderr_console

PLAIN_INTERVAL_S = 10.0


def _console() -> Console:
    return stderr_console()


def duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Advance(Protocol):
    def __call__(self, done: int = 1, note: str = "") -> None:
        """Add ``done`` units; ``note`` (e.g. the current loss) is shown beside the bar."""


class _PlainLines:
    """Counted progress as periodic lines, for a log file or a pipe."""

    def __init__(self, console: Console, label: str, total: int, unit: str) -> None:
        self.console, self.label, self.total, self.unit = console, label, total, unit
        self.done = 0
        self.started = self.last = time.monotonic()

    def __call__(self, done: int = 1, note: str = "") -> None:
        self.done += done
        now = time.monotonic()
        if now - self.last < PLAIN_INTERVAL_S and self.done < self.total:
            return
        self.last = now
        elapsed = now - self.started
        left = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        extra = f", {note}" if note else ""
        self.console.print(
            f"{self.label}: {self.done}/{self.total} {self.unit}, {duration(elapsed)} "
            f"elapsed, about {duration(left)} left{extra}",
            highlight=False,
        )


@contextmanager
def counted(label: str, total: int, unit: str = "steps") -> Iterator[Advance]:
    """Progress over ``total`` units of work; yields the function to call per unit."""
    console = _console()
    if not console.is_terminal:
        console.print(f"{label}: {total} {unit}...", highlight=False)
        yield _PlainLines(console, label, total, unit)
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[note]}"),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(label, total=total, note="")

        def advance(done: int = 1, note: str = "") -> None:
            bar.update(task, advance=done, note=note)

        yield advance


@contextmanager
def step(label: str) -> Iterator[None]:
    """An uncountable step: one line when it starts, one with its duration when it ends."""
    console = _console()
    console.print(f"{label}...", highlight=False)
    started = time.monotonic()
    yield
    console.print(f"{label}: done in {duration(time.monotonic() - started)}", highlight=False)
