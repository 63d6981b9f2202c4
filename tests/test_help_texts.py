"""``alignprobe --help`` lists each command in the words its own ``--help`` opens with."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from alignprobe.cli import _COMMANDS, cli


def _help(*args: str) -> str:
    result = CliRunner().invoke(cli, [*args, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.output


def _listed(output: str) -> dict[str, str]:
    """``Commands:`` section of a group's help: name -> its one-line description (unwrapped)."""
    listed: dict[str, str] = {}
    name = ""
    for line in output.split("Commands:\n", 1)[1].splitlines():
        entry = re.match(r"^  (\S+)\s+(.*)$", line)
        if entry:
            name = entry.group(1)
            listed[name] = entry.group(2)
        elif line.strip() and name:
            listed[name] += " " + line.strip()
    return listed


def _opening(output: str) -> str:
    """The first paragraph after the usage line, unwrapped."""
    body = output.split("\n\n", 2)[1]
    return " ".join(body.split())


def _commands(group: click.Group, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    ctx = click.Context(group)
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        found.append((*path, name))
        if isinstance(command, click.Group):
            found += _commands(command, (*path, name))
    return found


ALL = _commands(cli, ())


def test_every_registered_command_is_checked() -> None:
    assert {path[0] for path in ALL} == set(_COMMANDS)
    assert ("gold", "report") in ALL and ("gold", "template") in ALL


@pytest.mark.parametrize("path", ALL, ids=" ".join)
def test_listing_and_own_help_say_the_same(path: tuple[str, ...]) -> None:
    listing = _listed(_help(*path[:-1]))[path[-1]]
    opening = _opening(_help(*path))
    # whole (click cuts a long first sentence with "..."), one sentence, the same words
    assert not listing.endswith("..."), f"{' '.join(path)}: listed as {listing!r}"
    assert listing == opening, f"{' '.join(path)}: listed {listing!r}, help opens {opening!r}"
