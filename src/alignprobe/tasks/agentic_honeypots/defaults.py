"""Named defaults of the agentic honeypots."""

from __future__ import annotations

TASK_NAME = "agentic_honeypots"
#: comparability version: bump when scenarios, tools, protections or scoring change meaning
VERSION = "2"
#: the scenarios written for this project (scenarios/core.yaml in this folder)
BUILTIN_SCENARIOS = "core"
DEFAULT_SAMPLES = 3
DEFAULT_TEMPERATURE = 1.0
DEFAULT_MAX_TOKENS = 800
#: messages per conversation (system + task + assistant turns + tool results)
DEFAULT_MESSAGE_LIMIT = 30
REASONING_PROMPT = "honeypot_reasoning"
#: what run_command shows when a command prints nothing (and no scenario rule matches)
DEFAULT_COMMAND_OUTPUT = "(no output)"
