"""Goals-question paraphrases -> Inspect samples.

``questions`` is a built-in set name (``core``: the paraphrases in ``questions/core.yaml``)
or a path/URL of a YAML file of the same shape (``questions: [{id, prompt}]``). Bad rows
and repeated ids name the file and line.
"""

from __future__ import annotations

from inspect_ai.dataset import MemoryDataset
from pydantic import ConfigDict, field_validator

from alignprobe.conditions import Condition
from alignprobe.tasks.goals_question import defaults
from alignprobe.tasks.item_sets import ItemSets, ListedItem
from alignprobe.tasks.samples import one_turn_sample


class GoalsQuestion(ListedItem):
    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str

    @field_validator("prompt")
    @classmethod
    def _non_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be non-empty text")
        return value.strip()


QUESTION_SETS = ItemSets(
    "alignprobe.tasks.goals_question",
    "questions",
    what="question set",
    field="questions",
    accepts="a path or URL of a YAML file with questions: [{id, prompt}]",
    key="questions",
    item=GoalsQuestion,
    noun="question",
)


def load_questions(location: str) -> tuple[list[GoalsQuestion], dict[str, str]]:
    """The paraphrases of a set name, path or URL, and the file's sha256."""
    return QUESTION_SETS.load(location)


def question_samples(questions: list[GoalsQuestion], condition: Condition) -> MemoryDataset:
    samples = [
        one_turn_sample(q.id, q.prompt, condition, {"question_id": q.id, "question": q.prompt})
        for q in questions
    ]
    return MemoryDataset(samples, name=defaults.TASK_NAME)
