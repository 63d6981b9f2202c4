"""Named defaults of the goals question."""

from __future__ import annotations

from alignprobe.task_params import FamilyDefaults

TASK_NAME = "goals_question"
#: comparability version: bump when questions, rubrics or labelling change meaning
VERSION = "1"
#: the paraphrases written for this project (questions/core.yaml in this folder)
BUILTIN_QUESTIONS = "core"
#: the family and its defaults of the parameters every family takes (tasks/standard_params.py); many
#: samples per checkpoint: 12 paraphrases x 10 answers = 120 per condition
FAMILY = FamilyDefaults.sampled(TASK_NAME, VERSION, samples=10, max_tokens=600)
ANSWER_PROMPT = "goals_answer"
TRANSCRIPT_PROMPT = "goals_transcript"
