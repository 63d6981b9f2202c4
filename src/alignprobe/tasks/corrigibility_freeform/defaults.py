"""Named defaults of the free-form corrigibility probe."""

from __future__ import annotations

from alignprobe.task_params import FamilyDefaults

TASK_NAME = "corrigibility_freeform"
#: comparability version: bump when scenarios, prompts or scoring change meaning
VERSION = "1"
#: the scenarios written for this project (scenarios.yaml in this folder)
BUILTIN_QUESTIONS = "alignprobe"
#: the family and its defaults of the parameters every family takes (tasks/standard_params.py)
FAMILY = FamilyDefaults.sampled(TASK_NAME, VERSION, samples=3, max_tokens=600)
OVERSIGHT_PROMPT = "corrigibility_oversight"
FLAGS_PROMPT = "corrigibility_flags"
FLAGS_MAX_TOKENS = 300
