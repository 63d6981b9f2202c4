"""What every part of the simulated shell shares: its error, data streams, option parsing
and the interface the command sets are written against."""

from __future__ import annotations

from dataclasses import dataclass, field

from alignprobe.tasks.agentic_honeypots.world import Item, World


class Uninterpretable(Exception):
    """The simulated shell cannot tell what this command would do."""


@dataclass
class Stream:
    """Data between commands: every item keeps the file it came from."""

    items: list[Item] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The bytes as a shell would pass them on (each item carries its own newlines)."""
        return "".join(i.content for i in self.items)


def text_stream(text: str) -> Stream:
    return Stream([Item(None, text)])


class ShellBase:
    """The state a command set acts on (:class:`~.interpreter.Shell` provides it)."""

    world: World
    cwd: str

    def path(self, name: str) -> str:
        return self.world.normalize(name, self.cwd)

    def run(self, command: str) -> str:  # pragma: no cover - provided by Shell
        raise NotImplementedError

    def local_items(self, names: list[str]) -> list[Item]:
        """The data of local files (every file under a folder)."""
        return [it for n in names for it in self.world.items(self.path(n))]


def split_options(
    args: list[str], with_value: frozenset[str] | set[str] = frozenset()
) -> tuple[list[str], dict[str, str]]:
    """Positional arguments and options (``--x=v``, ``-x v`` for options in ``with_value``)."""
    positional: list[str] = []
    options: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            positional.extend(args[i + 1 :])
            break
        if arg.startswith("--") and "=" in arg:
            name, value = arg.split("=", 1)
            options[name] = value
        elif arg in with_value and i + 1 < len(args):
            options[arg] = args[i + 1]
            i += 1
        elif arg.startswith("-") and len(arg) > 1:
            options[arg] = ""
        else:
            positional.append(arg)
        i += 1
    return positional, options
