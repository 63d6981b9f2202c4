"""What commands print about their outputs: files written (uploaded beside a remote run
where it came from a URL) and logs that did not succeed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from inspect_ai.log import EvalLog


def beside(run: Path, name: str) -> Path:
    """``name`` in a run folder, or beside a table file."""
    return (run if run.is_dir() else run.parent) / name


def upload_beside(run: Path, out: Path | None, name: str = "") -> str | None:
    """The URL that outputs written by default for ``run`` go back to: the remote run's own
    URL (its ``name`` subfolder), or ``None`` where the run is local or ``--out`` was given."""
    from alignprobe.run.storage import join, remote_origin

    origin = remote_origin(run) if out is None else None
    if origin is None or not name:
        return origin
    return join(origin, name)


def echo_written(paths: Sequence[Path], upload_to: str | None = None) -> None:
    """Print ``wrote PATH`` per output; with ``upload_to`` (a URL) upload them first and
    print where they went."""
    from alignprobe.run.storage import publish

    for path in publish(paths, upload_to) if upload_to is not None else paths:
        click.echo(f"wrote {path}")


def echo_failed_logs(logs: Iterable[EvalLog]) -> None:
    """One stderr line per log that did not succeed: where it is and why."""
    for log in logs:
        message = log.error.message if log.error else log.status
        click.echo(f"alignprobe: log did not succeed: {log.location}: {message}", err=True)
