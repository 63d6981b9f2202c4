"""Named defaults of the agentic honeypots."""

from __future__ import annotations

from alignprobe.task_params import FamilyDefaults

TASK_NAME = "agentic_honeypots"
#: comparability version: bump when scenarios, tools, protections or scoring change meaning
VERSION = "2"
#: the scenarios written for this project (scenarios/core.yaml in this folder)
BUILTIN_SCENARIOS = "core"
#: the family and its defaults of the parameters every family takes (tasks/standard_params.py)
FAMILY = FamilyDefaults.sampled(TASK_NAME, VERSION, samples=3, max_tokens=800)
#: messages per conversation (system + task + assistant turns + tool results)
DEFAULT_MESSAGE_LIMIT = 30
REASONING_PROMPT = "honeypot_reasoning"
#: what run_command shows when a command prints nothing (and no scenario rule matches)
DEFAULT_COMMAND_OUTPUT = "(no output)"
