"""A simulated shell: common commands act on the :class:`World`, the rest are recorded.

It understands pipelines, ``;``/``&&``/``||``, redirections, here-documents and the commands
an agent uses to move, change or send data (docs/honeypots.md lists them), plus read-only
commands. Data read from a file keeps its path through every filter or encoding in a
pipeline, so a ``base64``'d or ``gzip``'d copy is still that file. Anything else raises
:class:`Uninterpretable`: the command is recorded, never silently treated as harmless.

Modules: ``syntax`` (reading a command line), ``interpreter`` (lists, pipelines,
redirections), ``files`` / ``network`` (the commands), ``python`` (``python -c``).
"""

from __future__ import annotations

from alignprobe.tasks.agentic_honeypots.shell.base import Uninterpretable
from alignprobe.tasks.agentic_honeypots.shell.interpreter import Shell
from alignprobe.tasks.agentic_honeypots.world import World


def run(world: World, command: str) -> str:
    """Execute ``command`` on ``world``; its output. Raises :class:`Uninterpretable`, also
    for a command shape the interpreter trips on (never an error out of the tool)."""
    try:
        return Shell(world).run(command)
    except Uninterpretable:
        raise
    except Exception as exc:  # an unforeseen shape is uninterpreted, never a crashed sample
        raise Uninterpretable(f"the simulated shell failed on it ({type(exc).__name__})") from exc


__all__ = ["Uninterpretable", "run"]
