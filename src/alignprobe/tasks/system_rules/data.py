"""Probe sets -> Inspect samples: the built-in YAML rule sets, and S-IFEval-format JSONL.

A dataset is a built-in name (``sets/<name>.yaml`` in this folder), or a local path or
http(s) URL (downloaded once and cached) of either

* a YAML file in the built-in schema (``rules`` + ``requests``; see ``sets/core.yaml``), or
* a JSON Lines file in the S-IFEval / IFEval schema: one object per line with
  ``instruction_id_list``, ``kwargs`` and ``messages`` (OpenAI-style, the rules in the
  system turn) or, for plain IFEval rows, ``prompt``. Optional ``key``, ``domain`` and
  ``variant`` are used when present.

Every problem names the file and the line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspect_ai.dataset import MemoryDataset, Sample
from pydantic import BaseModel, ConfigDict, Field, model_validator

from alignprobe.conditions import Condition, apply_condition
from alignprobe.errors import DataError
from alignprobe.fileio import (
    check_unique_ids,
    item_lines,
    load_by_format,
    load_yaml_mapping,
    read_jsonl,
    remember_once,
    validate,
)
from alignprobe.measures import METADATA_KEY
from alignprobe.results.chat_rows import Message, to_chat_message
from alignprobe.sources import BuiltinData
from alignprobe.tasks.system_rules.checker import instruction_problem
from alignprobe.tasks.system_rules.types import MULTIPLE_RULES, Domain, Variant

_PACKAGE = "alignprobe.tasks.system_rules"


class Instruction(BaseModel):
    """One IFEval instruction: checker id and its arguments."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    kwargs: dict[str, Any] = Field(default_factory=dict)


class Rule(BaseModel):
    """A system prompt that sets verifiable rules."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    system: str = Field(min_length=1)
    instructions: list[Instruction] = Field(min_length=1)
    conflict: list[str] = Field(min_length=1)
    """User requests to break the rule (one is appended to the request per conflict sample)."""
    pass_example: str | None = None
    fail_example: str | None = None


class Request(BaseModel):
    """A user request in one domain, paired with the rules it is asked under."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    domain: Domain
    text: str = Field(min_length=1)
    rules: list[str] = Field(min_length=1)


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[Rule] = Field(min_length=1)
    requests: list[Request] = Field(min_length=1)


class SIFEvalRow(BaseModel):
    """One row of an S-IFEval / IFEval JSONL file (unknown extra keys are ignored)."""

    model_config = ConfigDict(extra="ignore")

    key: int | str | None = None
    prompt: str | None = None
    messages: list[Message] | None = None
    instruction_id_list: list[str] = Field(min_length=1)
    kwargs: list[dict[str, Any]]
    domain: Domain = Domain.UNSPECIFIED
    variant: Variant = Variant.ALIGNED

    @model_validator(mode="after")
    def _consistent(self) -> SIFEvalRow:
        if len(self.kwargs) != len(self.instruction_id_list):
            raise ValueError(
                f"kwargs has {len(self.kwargs)} entries but instruction_id_list has "
                f"{len(self.instruction_id_list)}: give one kwargs object per instruction"
            )
        if self.messages is None and not self.prompt:
            raise ValueError("a row needs 'messages' (S-IFEval) or 'prompt' (IFEval)")
        if self.messages is not None and (not self.messages or self.messages[-1].role != "user"):
            raise ValueError("'messages' must end with a user turn")
        return self


@dataclass(frozen=True)
class RuleItem:
    """One (system rules, user turn) probe, ready to become a sample."""

    id: str
    domain: Domain
    variant: Variant
    messages: tuple[Message, ...]
    instruction_ids: tuple[str, ...]
    kwargs: tuple[dict[str, Any], ...]
    rule: str
    """Rule id (built-in sets) or the joined instruction ids (external rows)."""

    @property
    def rule_type(self) -> str:
        return self.instruction_ids[0] if len(self.instruction_ids) == 1 else MULTIPLE_RULES

    @property
    def user_text(self) -> str:
        return next(m.content for m in reversed(self.messages) if m.role == "user")


DATASETS = BuiltinData(
    _PACKAGE,
    "sets",
    what="dataset",
    field="dataset",
    accepts="a path or URL of an S-IFEval JSONL file or a rule-set YAML file",
)


def _check_instructions(
    ids: list[str], kwargs: list[dict[str, Any]], *, source: Path, line: int | None, field: str
) -> None:
    for index, (instruction_id, args) in enumerate(zip(ids, kwargs, strict=True)):
        if (problem := instruction_problem(instruction_id, args)) is not None:
            raise DataError(problem, source=source, line=line, field=f"{field}[{index}]")


def load_rule_set(path: Path) -> list[RuleItem]:
    """A YAML rule set -> one aligned and one conflict item per (request, rule)."""
    data = load_yaml_mapping(path, expects="'rules' and 'requests'")
    parsed = validate(RuleSet, data, source=path)
    rule_lines, request_lines = item_lines(data.get("rules")), item_lines(data.get("requests"))
    check_unique_ids([r.id for r in parsed.rules], rule_lines, source=path, what="rule")
    check_unique_ids([r.id for r in parsed.requests], request_lines, source=path, what="request")
    rules = {rule.id: rule for rule in parsed.rules}
    for rule, line in zip(parsed.rules, rule_lines, strict=True):
        _check_instructions(
            [i.id for i in rule.instructions],
            [i.kwargs for i in rule.instructions],
            source=path,
            line=line,
            field=f"rules.{rule.id}.instructions",
        )
    items: list[RuleItem] = []
    for request, line in zip(parsed.requests, request_lines, strict=True):
        for index, rule_id in enumerate(request.rules):
            chosen = rules.get(rule_id)
            if chosen is None:
                raise DataError(
                    f"unknown rule '{rule_id}'; rules in this file: {', '.join(rules)}",
                    source=path,
                    line=line,
                    field=f"requests.{request.id}.rules[{index}]",
                )
            items.extend(_request_items(request, chosen))
    return items


def _request_items(request: Request, rule: Rule) -> list[RuleItem]:
    # vary the conflict wording across the requests that share a rule, deterministically
    pick = int(hashlib.sha256(request.id.encode()).hexdigest(), 16) % len(rule.conflict)
    conflict = f"{request.text}\n\n{rule.conflict[pick]}"
    common: dict[str, Any] = {
        "id": f"{request.id}/{rule.id}",
        "domain": request.domain,
        "instruction_ids": tuple(i.id for i in rule.instructions),
        "kwargs": tuple(i.kwargs for i in rule.instructions),
        "rule": rule.id,
    }
    system = Message(role="system", content=rule.system)
    return [
        RuleItem(
            variant=Variant.ALIGNED,
            messages=(system, Message(role="user", content=request.text)),
            **common,
        ),
        RuleItem(
            variant=Variant.CONFLICT,
            messages=(system, Message(role="user", content=conflict)),
            **common,
        ),
    ]


def load_sifeval(path: Path) -> list[RuleItem]:
    """S-IFEval / IFEval JSONL -> items (all rows are read and checked before any runs)."""
    items: list[RuleItem] = []
    seen: dict[str, int | None] = {}
    for line, obj in read_jsonl(path):
        row = validate(SIFEvalRow, obj, source=path, line=line)
        _check_instructions(
            row.instruction_id_list, row.kwargs, source=path, line=line, field="instruction_id_list"
        )
        item_id = f"sifeval-{row.key}" if row.key is not None else f"line-{line}"
        remember_once(seen, item_id, line, source=path, label=f"key '{row.key}'", field="key")
        messages = row.messages or [Message(role="user", content=row.prompt or "")]
        items.append(
            RuleItem(
                id=item_id,
                domain=row.domain,
                variant=row.variant,
                messages=tuple(messages),
                instruction_ids=tuple(row.instruction_id_list),
                kwargs=tuple(row.kwargs),
                rule="+".join(row.instruction_id_list),
            )
        )
    if not items:
        raise DataError("no rows in file", source=path)
    return items


def load_items(dataset: str) -> tuple[Path, list[RuleItem]]:
    return load_by_format(DATASETS.file(dataset), jsonl=load_sifeval, yaml=load_rule_set)


def parse_variants(variants: str | list[str]) -> list[Variant]:
    names = variants.split(",") if isinstance(variants, str) else variants
    try:
        return [Variant(name.strip()) for name in names if name.strip()]
    except ValueError:
        raise DataError(
            f"unknown variant in '{variants}'; allowed: {', '.join(v.value for v in Variant)}",
            field="variants",
        ) from None


def item_samples(
    items: list[RuleItem], condition: Condition, source: str, variants: list[Variant]
) -> MemoryDataset:
    """One sample per item; the cluster for statistics is the (request, rule) item."""
    samples: list[Sample] = []
    for item in items:
        if item.variant not in variants:
            continue
        metadata: dict[str, Any] = {
            "question_id": item.id,
            "domain": item.domain.value,
            "rule_type": item.rule_type,
            "rule": item.rule,
            "variant": item.variant.value,
            "instruction_ids": list(item.instruction_ids),
            **condition.metadata(),
            METADATA_KEY: {"kwargs": [dict(k) for k in item.kwargs], "prompt": item.user_text},
        }
        messages = apply_condition([to_chat_message(m) for m in item.messages], condition)
        samples.append(
            Sample(id=f"{item.id}:{item.variant.value}", input=messages, metadata=metadata)
        )
    if not samples:
        raise DataError(
            f"no samples of variant(s) {', '.join(v.value for v in variants)} in {source}",
            field="variants",
        )
    return MemoryDataset(samples, name=Path(source).stem, location=source)
