"""Command-line values naming where a command reads or writes, checked before any work.

* :data:`RUN_LOCATION`: a run folder or table, a local path or an fsspec URL (``s3://...``);
  a URL is mirrored locally when the command line is read
  (:func:`alignprobe.run.storage.local_copy`), so every later stage reads a local folder,
  and outputs written beside the run go back to the URL
  (:func:`alignprobe.run.storage.remote_origin`).
* :data:`OUT_LOCATION`: an output folder that may be a URL (built locally, then uploaded).
* :data:`LOCAL_OUT_FOLDER` / :data:`LOCAL_OUT_FILE`: outputs written on this machine only.
  A URL there is refused (exit 2) instead of becoming a local folder named ``s3:``, and a
  path that cannot be written (a file where a folder is wanted, a folder where a file
  is, no permission) is refused before anything is read or written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from alignprobe.errors import UserInputError
from alignprobe.run.storage import is_remote, local_copy


def _option(param: click.Parameter | None) -> str:
    if param is None:
        return "path"
    opts = getattr(param, "opts", None) or [param.name or "path"]
    return str(opts[0])


def check_writable(path: Path, field: str, *, folder: bool) -> None:
    """Refuse (exit 2) a local output that cannot be written, naming what is in the way."""
    target = path.absolute()
    if target.exists() and target.is_dir() != folder:
        what = "a folder" if target.is_dir() else "a file"
        wanted = "a folder" if folder else "a file"
        raise UserInputError(f"{path} is {what}; expected {wanted} to write", field=field)
    # the folder the output goes in (or is): the nearest one that exists must be writable
    existing = target if folder and target.exists() else target.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UserInputError(f"cannot write {path}: {existing} is not a folder", field=field)
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserInputError(f"cannot write {path}: {existing} is not writable", field=field)


class RunLocation(click.ParamType[Path]):
    """A run folder or table file; a remote run folder arrives as its local mirror."""

    name = "PATH|URL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        if isinstance(value, Path):
            return value
        text = str(value)
        return local_copy(text) if is_remote(text) else Path(text)


class OutLocation(click.ParamType[Path | str]):
    """An output folder: a local path (checked writable), or a URL kept as text."""

    name = "PATH|URL"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Path | str:
        text = str(value)
        if is_remote(text):
            return text.rstrip("/")
        check_writable(Path(text), _option(param), folder=True)
        return Path(text)


class LocalOut(click.ParamType[Path]):
    """An output written on this machine only: URLs refused, writability checked."""

    name = "PATH"

    def __init__(self, *, folder: bool) -> None:
        self.folder = folder

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        text = str(value)
        field = _option(param)
        if is_remote(text):
            command = ctx.command_path if ctx is not None else "this command"
            raise UserInputError(
                f"'{command}' writes {field} to a local path only, not to {text}: write it "
                "locally and copy it to the store (e.g. `aws s3 cp`)",
                field=field,
            )
        path = Path(text)
        check_writable(path, field, folder=self.folder)
        return path


RUN_LOCATION = RunLocation()
OUT_LOCATION = OutLocation()
LOCAL_OUT_FOLDER = LocalOut(folder=True)
LOCAL_OUT_FILE = LocalOut(folder=False)
