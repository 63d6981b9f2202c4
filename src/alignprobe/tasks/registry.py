"""alignprobe's own tasks, by name: the one list the Inspect entry point, ``alignprobe
tasks`` / ``eval`` and the suite schema all read.

Adding a probe family = its folder under ``tasks/`` and its name here.
"""

from __future__ import annotations

from alignprobe.errors import ConfigError

ALIGNPROBE_TASKS = (
    "emergent_misalignment",
    "system_rules",
    "guardrails",
    "corrigibility_mcq",
    "corrigibility_freeform",
    "instructed_hacking",
    "agentic_honeypots",
    "goals_question",
    "tensortrust",
)


def resolve_task_name(name: str) -> str:
    """``name`` or ``alignprobe/name`` -> ``alignprobe/name``, or a clear error."""
    short = name.removeprefix("alignprobe/")
    if short not in ALIGNPROBE_TASKS:
        raise ConfigError(
            f"unknown task '{name}'; alignprobe tasks: {', '.join(ALIGNPROBE_TASKS)}",
            field="task",
        )
    return f"alignprobe/{short}"
