"""Named defaults of the system-rules probe."""

from __future__ import annotations

from alignprobe.task_params import FamilyDefaults

TASK_NAME = "system_rules"
#: comparability version: bump when rules, requests or scoring change meaning
VERSION = "1"
#: built-in probe set (``data/<name>.yaml`` in this folder)
DEFAULT_DATASET = "core"
DEFAULT_VARIANTS = "aligned,conflict"
#: the family and its defaults of the parameters every family takes (tasks/standard_params.py)
FAMILY = FamilyDefaults.greedy(TASK_NAME, VERSION, max_tokens=2048)
#: seed for langdetect, whose detector is random unless seeded (IFEval's language checks)
LANGDETECT_SEED = 0
#: NLTK model name that IFEval's sentence counting loads
PUNKT_LANGUAGE = "english"
