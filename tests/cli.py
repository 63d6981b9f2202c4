"""The command line as the tests run it in-process: the exit code a shell would see."""

from __future__ import annotations

from pathlib import Path

from alignprobe.cli import main


def alignprobe(*args: str | Path) -> int:
    """Exit code of ``alignprobe ARGS`` (a command that returns normally exits 0)."""
    try:
        main([str(a) for a in args])
    except SystemExit as exited:
        return int(exited.code or 0)
    return 0
