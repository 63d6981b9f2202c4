"""Named defaults of the goals question."""

from __future__ import annotations

TASK_NAME = "goals_question"
#: comparability version: bump when questions, rubrics or labelling change meaning
VERSION = "1"
#: the paraphrases written for this project (questions/core.yaml in this folder)
BUILTIN_QUESTIONS = "core"
#: many samples per checkpoint: 12 paraphrases x 10 answers = 120 per condition
DEFAULT_SAMPLES = 10
DEFAULT_TEMPERATURE = 1.0
DEFAULT_MAX_TOKENS = 600
ANSWER_PROMPT = "goals_answer"
TRANSCRIPT_PROMPT = "goals_transcript"
