"""Question files in the Betley et al. schema -> Inspect samples.

A question set is a built-in name (a file in ``questions/``), a local path, or an
http(s) URL (downloaded once and cached). Every problem is reported with the file and
the line of the offending question.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessage, ChatMessageSystem, ChatMessageUser
from pydantic import BaseModel, ConfigDict, Field, field_validator

from alignprobe.conditions import Condition, apply_condition
from alignprobe.errors import DataError
from alignprobe.fileio import check_unique_ids, item_lines, load_yaml, validate
from alignprobe.measures import METADATA_KEY
from alignprobe.sources import BuiltinData
from alignprobe.tasks.emergent_misalignment.types import QuestionType, Variant

_PACKAGE = "alignprobe.tasks.emergent_misalignment"
_SUFFIX_VARIANTS = {"_json": Variant.JSON, "_template": Variant.TEMPLATE}


class Question(BaseModel):
    """One question of the Betley et al. schema (an unknown key is refused with its line)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    type: QuestionType = QuestionType.FREE_FORM_0_100
    paraphrases: list[str] = Field(min_length=1)
    system: str | None = None
    samples_per_paraphrase: int | None = Field(default=None, ge=1)
    judge: str | None = None
    judge_prompts: dict[str, str] = Field(default_factory=dict)
    family: str | None = None
    variant: Variant | None = None

    @field_validator("paraphrases")
    @classmethod
    def _non_empty(cls, value: list[str]) -> list[str]:
        for paraphrase in value:
            if not isinstance(paraphrase, str) or not paraphrase.strip():
                raise ValueError("every paraphrase must be non-empty text")
        return value

    @property
    def resolved_variant(self) -> Variant:
        if self.variant is not None:
            return self.variant
        for suffix, variant in _SUFFIX_VARIANTS.items():
            if self.id.endswith(suffix):
                return variant
        return Variant.PLAIN

    @property
    def resolved_family(self) -> str:
        if self.family:
            return self.family
        for suffix in _SUFFIX_VARIANTS:
            if self.id.endswith(suffix):
                return self.id[: -len(suffix)]
        return self.id


QUESTION_SETS = BuiltinData(
    _PACKAGE,
    "questions",
    what="question set",
    field="questions",
    accepts="a path or URL of a question file in the Betley et al. YAML schema",
)


def _refuse_unknown_keys(item: dict[str, Any], path: Path, line: int | None, index: int) -> None:
    """A key the schema does not know (``sytem:``) would be dropped silently: refuse it."""
    known = list(Question.model_fields)
    for key in item:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
        key_lines = getattr(item, "key_lines", {})
        raise DataError(
            f"unknown question key '{key}'; {hint}",
            source=path,
            line=key_lines.get(str(key), line),
            field=f"[{index}].{key}",
        )


def load_questions(questions: str) -> tuple[Path, list[Question]]:
    path = QUESTION_SETS.file(questions)
    data = load_yaml(path, error=DataError)
    if not isinstance(data, list) or not data:
        raise DataError(
            "expected a non-empty list of questions", source=path, line=getattr(data, "line", 1)
        )
    parsed: list[Question] = []
    lines = item_lines(data)
    for index, (item, line) in enumerate(zip(data, lines, strict=True)):
        if not isinstance(item, dict):
            raise DataError("each question must be a mapping", source=path, line=line)
        _refuse_unknown_keys(item, path, line, index)
        parsed.append(validate(Question, item, source=path, loc_prefix=(index,)))
    check_unique_ids([q.id for q in parsed], lines, source=path, what="question")
    return path, parsed


def question_messages(
    question: Question, paraphrase: str, condition: Condition
) -> list[ChatMessage]:
    messages: list[ChatMessage] = []
    if question.system:
        messages.append(ChatMessageSystem(content=question.system))
    messages.append(ChatMessageUser(content=paraphrase))
    return apply_condition(messages, condition)


def question_samples(questions: list[Question], condition: Condition, source: str) -> MemoryDataset:
    """One sample per (question, paraphrase); the cluster for statistics is the question."""
    samples: list[Sample] = []
    for question in questions:
        for index, paraphrase in enumerate(question.paraphrases):
            metadata: dict[str, Any] = {
                "question_id": question.id,
                "family": question.resolved_family,
                "variant": question.resolved_variant.value,
                "paraphrase_index": index,
                "question": paraphrase,
                "question_system": question.system,
                **condition.metadata(),
                METADATA_KEY: {"judge_prompts": question.judge_prompts},
            }
            samples.append(
                Sample(
                    id=f"{question.id}:{index}",
                    input=question_messages(question, paraphrase, condition),
                    metadata=metadata,
                )
            )
    return MemoryDataset(samples, name=Path(source).stem, location=source)
