"""Guardrail cases -> Inspect samples: the built-in YAML set, and RealGuardrails JSONL.

A dataset is a built-in name (``sets/<name>.yaml`` in this folder), or a local path or
http(s) URL (downloaded once and cached) of either

* a YAML file in the built-in schema (``operators`` + ``cases``; see ``sets/core.yaml``), or
* a JSON Lines file in the RealGuardrails handwritten schema: one object per line with
  ``messages`` (OpenAI-style, system turn first, ending with a user turn), ``id`` (the
  system prompt's id), ``guardrails`` (list of one-line rules) and ``banlist`` (list of
  words, or null).

Every problem names the file and the line.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessage, ChatMessageSystem
from pydantic import BaseModel, ConfigDict, Field, model_validator

from alignprobe.conditions import Condition, apply_condition
from alignprobe.errors import DataError
from alignprobe.fileio import (
    check_unique_ids,
    item_lines,
    load_by_format,
    load_yaml_mapping,
    read_jsonl,
    validate,
)
from alignprobe.measures import METADATA_KEY
from alignprobe.results.chat_rows import Message, to_chat_message
from alignprobe.sources import BuiltinData
from alignprobe.tasks.guardrails.types import CaseKind, Tactic

_PACKAGE = "alignprobe.tasks.guardrails"
#: keys that mark a TensorTrust row (a sibling family reads those files)
TENSORTRUST_KEYS = frozenset({"access_code", "has_post_prompt"})


def _conversation_problem(messages: list[Message]) -> str | None:
    if not messages or messages[-1].role != "user":
        return "the conversation must end with a user turn"
    if any(m.role == "system" for m in messages[1:]):
        return "only the first message may be a system message"
    return None


class Operator(BaseModel):
    """A deployer's system prompt and the guardrails it sets."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    system: str = Field(min_length=1)
    guardrails: list[str] = Field(min_length=1)
    banlist: list[str] = Field(default_factory=list)


class Case(BaseModel):
    """A user turn (or conversation) that tests an operator's guardrails."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    operator: str = Field(min_length=1)
    kind: CaseKind
    tactic: Tactic = Tactic.NONE
    user: str | None = None
    messages: list[Message] | None = None
    expect: str | None = None
    """One line for the judge: what keeping the guardrails looks like here."""

    @model_validator(mode="after")
    def _one_input(self) -> Case:
        if (self.user is None) == (self.messages is None):
            raise ValueError("give exactly one of 'user' (one turn) or 'messages'")
        if self.messages is not None and (problem := _conversation_problem(self.messages)):
            raise ValueError(problem)
        if self.messages is not None and self.messages[0].role == "system":
            raise ValueError(
                "the system prompt comes from the operator; leave it out of 'messages'"
            )
        return self


class CaseSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operators: list[Operator] = Field(min_length=1)
    cases: list[Case] = Field(min_length=1)


class RealGuardrailsRow(BaseModel):
    """One row of RealGuardrails' handwritten JSONL (unknown extra keys are ignored)."""

    model_config = ConfigDict(extra="ignore")

    id: str | int
    messages: list[Message] = Field(min_length=2)
    guardrails: list[str] = Field(min_length=1)
    banlist: list[str] | None = None

    @model_validator(mode="after")
    def _shape(self) -> RealGuardrailsRow:
        if self.messages[0].role != "system":
            raise ValueError("the first message must be the system prompt")
        if (problem := _conversation_problem(self.messages)) is not None:
            raise ValueError(problem)
        return self


@dataclass(frozen=True)
class GuardrailCase:
    """One case, ready to become a sample."""

    id: str
    operator: str
    kind: CaseKind
    tactic: Tactic
    system: str
    conversation: tuple[Message, ...]
    """User/assistant turns after the system prompt, ending with the user's turn."""
    guardrails: tuple[str, ...]
    banlist: tuple[str, ...]
    expect: str | None = None


DATASETS = BuiltinData(
    _PACKAGE,
    "sets",
    what="dataset",
    field="dataset",
    accepts="a path or URL of a RealGuardrails JSONL file or a case-set YAML file",
)


def load_case_set(path: Path) -> list[GuardrailCase]:
    data = load_yaml_mapping(path, expects="'operators' and 'cases'")
    parsed = validate(CaseSet, data, source=path)
    check_unique_ids(
        [o.id for o in parsed.operators],
        item_lines(data.get("operators")),
        source=path,
        what="operator",
    )
    case_lines = item_lines(data.get("cases"))
    check_unique_ids([c.id for c in parsed.cases], case_lines, source=path, what="case")
    operators = {o.id: o for o in parsed.operators}
    cases: list[GuardrailCase] = []
    for case, line in zip(parsed.cases, case_lines, strict=True):
        operator = operators.get(case.operator)
        if operator is None:
            raise DataError(
                f"unknown operator '{case.operator}'; operators in this file: {', '.join(operators)}",
                source=path,
                line=line,
                field=f"cases.{case.id}.operator",
            )
        turns = case.messages or [Message(role="user", content=case.user or "")]
        cases.append(
            GuardrailCase(
                id=case.id,
                operator=operator.id,
                kind=case.kind,
                tactic=case.tactic,
                system=operator.system,
                conversation=tuple(turns),
                guardrails=tuple(operator.guardrails),
                banlist=tuple(operator.banlist),
                expect=case.expect,
            )
        )
    return cases


def load_realguardrails(path: Path) -> list[GuardrailCase]:
    """RealGuardrails JSONL -> cases (every row is read and checked before any runs)."""
    cases: list[GuardrailCase] = []
    per_prompt: Counter[str] = Counter()
    for line, obj in read_jsonl(path):
        if obj.keys() >= TENSORTRUST_KEYS and "guardrails" not in obj:
            raise DataError(
                "this is a TensorTrust file (access_code, has_post_prompt); it is scored by "
                "the benchmark's own rules in alignprobe/tensortrust: "
                f"alignprobe eval tensortrust -T dataset={path}",
                source=path,
                line=line,
            )
        row = validate(RealGuardrailsRow, obj, source=path, line=line)
        prompt_id = str(row.id)
        # ids name the system prompt, shared by many rows: number the rows within it
        case_id = f"{prompt_id}#{per_prompt[prompt_id]}"
        per_prompt[prompt_id] += 1
        cases.append(
            GuardrailCase(
                id=case_id,
                operator=prompt_id,
                kind=CaseKind.UNSPECIFIED,
                tactic=Tactic.UNSPECIFIED,
                system=row.messages[0].content,
                conversation=tuple(row.messages[1:]),
                guardrails=tuple(row.guardrails),
                banlist=tuple(row.banlist or ()),
            )
        )
    if not cases:
        raise DataError("no rows in file", source=path)
    return cases


def load_cases(dataset: str) -> tuple[Path, list[GuardrailCase]]:
    return load_by_format(DATASETS.file(dataset), jsonl=load_realguardrails, yaml=load_case_set)


def banlist_hits(text: str, banlist: tuple[str, ...] | list[str]) -> list[str]:
    """Banned words used in ``text``: case-insensitive, whole words, plain inflections.

    ``care`` matches "Care", "cares" and "cared" but not "careful"; a phrase or code
    (``FERN-STAFF-4471``) matches as written.
    """
    hits: list[str] = []
    for word in banlist:
        if not word.strip():
            continue
        pattern = rf"(?<!\w){re.escape(word.strip())}(?:s|es|d|ed|ing)?(?!\w)"
        if re.search(pattern, text, flags=re.IGNORECASE):
            hits.append(word)
    return hits


def case_samples(cases: list[GuardrailCase], condition: Condition, source: str) -> MemoryDataset:
    """One sample per case; the cluster for statistics is the case."""
    samples: list[Sample] = []
    for case in cases:
        metadata: dict[str, Any] = {
            "question_id": case.id,
            "operator": case.operator,
            "kind": case.kind.value,
            "tactic": case.tactic.value,
            "has_banlist": bool(case.banlist),
            **condition.metadata(),
            METADATA_KEY: {
                "system": case.system,
                "guardrails": list(case.guardrails),
                "banlist": list(case.banlist),
                "expect": case.expect,
                "system_sha256": hashlib.sha256(case.system.encode()).hexdigest()[:12],
            },
        }
        messages: list[ChatMessage] = [ChatMessageSystem(content=case.system)]
        messages += [to_chat_message(m) for m in case.conversation]
        samples.append(
            Sample(id=case.id, input=apply_condition(messages, condition), metadata=metadata)
        )
    return MemoryDataset(samples, name=Path(source).stem, location=source)
