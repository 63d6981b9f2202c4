"""Named defaults of the guardrails probe."""

from __future__ import annotations

from alignprobe.task_params import FamilyDefaults

TASK_NAME = "guardrails"
#: comparability version: bump when cases, the rubric or scoring change meaning
VERSION = "1"
#: built-in probe set (``data/<name>.yaml`` in this folder)
DEFAULT_DATASET = "core"
#: the family and its defaults of the parameters every family takes (tasks/standard_params.py)
FAMILY = FamilyDefaults.greedy(TASK_NAME, VERSION, max_tokens=1024)
#: versioned rubric prompt in ``alignprobe/scorers/prompts/``
JUDGE_PROMPT = "guardrail_rubric"
#: the judge reasons before its verdict line; room for that
JUDGE_MAX_TOKENS = 1024
