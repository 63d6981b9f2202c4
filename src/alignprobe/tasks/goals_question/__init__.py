"""The goals question, judged on the answer and on the reasoning (see README.md here)."""

from alignprobe.tasks.goals_question import scripts as _scripts  # noqa: F401
from alignprobe.tasks.goals_question.task import goals_question

__all__ = ["goals_question"]
