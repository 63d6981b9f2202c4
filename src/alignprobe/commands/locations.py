"""Command-line values naming a run folder: a local path or an fsspec URL (``s3://...``).

A URL is mirrored locally when the command line is read (:func:`alignprobe.run.storage.local_copy`),
so every later stage reads a local folder; commands that write beside the run put their
outputs back at the URL (:func:`alignprobe.run.storage.remote_origin`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from alignprobe.run.storage import is_remote, local_copy


class RunLocation(click.ParamType[Path]):
    """A run folder or table file; a remote run folder arrives as its local mirror."""

    name = "PATH|URL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        if isinstance(value, Path):
            return value
        text = str(value)
        return local_copy(text) if is_remote(text) else Path(text)


class OutLocation(click.ParamType[Path | str]):
    """An output folder: a local path, or a URL kept as text."""

    name = "PATH|URL"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Path | str:
        text = str(value)
        return text.rstrip("/") if is_remote(text) else Path(text)


RUN_LOCATION = RunLocation()
OUT_LOCATION = OutLocation()
