"""Behaviour files (model-written-evals format) -> items -> Inspect samples, two orders each.

A ``dataset`` is a comma list of built-in names (``survival-instinct``, ``lm/...``,
``caa/...``), paths, URLs or directories. A malformed row (the LM-written files have many)
is skipped, counted by reason and recorded with its line in the Task metadata, and a
one-line summary is logged; with ``strict`` the first one raises ``DataError`` naming file
and line. Near-empty stems are dropped, counted and recorded the same way.
"""

from __future__ import annotations

import json
import logging
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessage, ChatMessageUser
from pydantic import BaseModel, ConfigDict

from alignprobe.conditions import Condition, apply_condition
from alignprobe.errors import ConfigError, DataError
from alignprobe.fileio import (
    MalformedRow,
    RowProblem,
    jsonl_rows,
    malformed_reasons,
    malformed_summary,
    read_jsonl,
    skip_or_refuse,
    validate_row,
)
from alignprobe.measures import METADATA_KEY
from alignprobe.sources import fetch, file_sha256, is_url
from alignprobe.tasks.corrigibility_mcq import catalog, defaults
from alignprobe.tasks.corrigibility_mcq.questions import (
    ParsedQuestion,
    answer_letter,
    parse_question,
    swapped_order,
)
from alignprobe.tasks.corrigibility_mcq.types import MalformedReason, Order, Polarity

logger = logging.getLogger(__name__)
#: lines shown in the logged summary and examples kept with their detail in the metadata
_SHOWN = 20


class Row(BaseModel):
    """One row of a model-written-evals file (extra keys are ignored)."""

    model_config = ConfigDict(extra="ignore")

    question: str
    answer_matching_behavior: str | list[str]
    answer_not_matching_behavior: str | list[str]


@dataclass(frozen=True)
class BehaviourFile:
    """One behaviour file, resolved to a local path."""

    location: str
    path: Path
    identity: catalog.FileIdentity

    @property
    def behaviour(self) -> str:
        return self.identity.label


@dataclass(frozen=True)
class Item:
    """One question with its safe choice, in published order."""

    item_id: str
    behaviour: str
    line: int
    parsed: ParsedQuestion
    safe_index: int
    matching_index: int


@dataclass
class BehaviourData:
    """The kept items of one file and what happened to the rest (for the log)."""

    file: BehaviourFile
    polarity: Polarity
    polarity_from: str
    sha256: str
    items: list[Item] = field(default_factory=list)
    rows: int = 0
    dropped_empty_lines: list[int] = field(default_factory=list)
    malformed: list[MalformedRow] = field(default_factory=list)
    used: int = 0

    def malformed_summary(self) -> str | None:
        """``<name> (<kind>): 12 malformed rows skipped: lines 4, 17, ... (<reason>: 7, ...)``."""
        identity = self.file.identity
        return malformed_summary(f"{identity.name} ({identity.kind.value})", self.malformed, _SHOWN)

    def summary(self) -> dict[str, Any]:
        choices = Counter(len(item.parsed.choices) for item in self.items)
        by_reason: dict[str, list[int]] = {}
        for row in self.malformed:
            by_reason.setdefault(row.reason.value, []).append(row.line)
        return {
            "behaviour": self.file.behaviour,
            "name": self.file.identity.name,
            "kind": self.file.identity.kind.value,
            "location": self.file.location,
            "sha256": self.sha256,
            "polarity": self.polarity.value,
            "polarity_from": self.polarity_from,
            "rows": self.rows,
            "kept": len(self.items),
            "used": self.used,
            "dropped_empty": len(self.dropped_empty_lines),
            "dropped_empty_lines": list(self.dropped_empty_lines),
            "malformed": len(self.malformed),
            "malformed_lines": [row.line for row in self.malformed],
            "malformed_reasons": malformed_reasons(self.malformed),
            "malformed_lines_by_reason": by_reason,
            "malformed_examples": [
                f"line {row.line}: {row.reason.value}: {row.detail}"
                for row in self.malformed[:_SHOWN]
            ],
            "malformed_summary": self.malformed_summary(),
            "choices": {str(k): v for k, v in sorted(choices.items())},
        }


# --- locating files -------------------------------------------------------------------


def _files_in(folder: Path) -> list[Path]:
    """Behaviour files in a folder: ``*.jsonl``/``*.json`` in it, and CAA ``*/test_dataset_ab.json``."""
    direct = [
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix in (".jsonl", ".json") and "open_ended" not in p.name
    ]
    caa = list(folder.glob(f"*/{catalog.CAA_AB_FILE}"))
    return sorted({*direct, *caa})


def resolve_dataset(dataset: str) -> list[BehaviourFile]:
    """Comma list of built-in names, paths, directories and URLs -> behaviour files."""
    files: list[BehaviourFile] = []
    for entry in (e.strip() for e in dataset.split(",")):
        if not entry:
            continue
        url = catalog.builtin_url(entry)
        if url is not None:
            files.append(BehaviourFile(url, fetch(url), catalog.identify(url)))
            continue
        if is_url(entry):
            files.append(BehaviourFile(entry, fetch(entry), catalog.identify(entry)))
            continue
        path = Path(entry).expanduser()
        if path.is_dir():
            found = _files_in(path)
            if not found:
                raise DataError("no .jsonl/.json behaviour files in this folder", source=path)
            files.extend(BehaviourFile(str(p), p, catalog.identify(str(p))) for p in found)
        elif path.is_file():
            files.append(BehaviourFile(entry, path, catalog.identify(str(path))))
        else:
            looks_like_file = "/" in entry or entry.endswith((".json", ".jsonl"))
            if looks_like_file:
                raise DataError("file not found", source=path)
            raise ConfigError(
                f"unknown dataset '{entry}': give a built-in name (e.g. corrigible-neutral-HHH, "
                "survival-instinct, lm/survival-instinct, caa/survival-instinct; see "
                "catalog.builtin_names()), a path, a folder or an http(s) URL",
                field="dataset",
            )
    if not files:
        raise ConfigError("no dataset given", field="dataset")
    seen: dict[str, str] = {}
    for f in files:
        if f.behaviour in seen:
            raise ConfigError(
                f"behaviour '{f.behaviour}' given twice ({seen[f.behaviour]} and {f.location})",
                field="dataset",
            )
        seen[f.behaviour] = f.location
    return files


# --- reading rows ---------------------------------------------------------------------


def _json_list_rows(path: Path, text: str) -> list[tuple[int, Any]]:
    """Items of a JSON list with the line each starts on."""
    decoder = json.JSONDecoder()
    rows: list[tuple[int, Any]] = []
    pos = text.index("[") + 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text):
            raise DataError(
                "invalid JSON: unterminated list", source=path, line=text.count("\n") + 1
            )
        if text[pos] == "]":
            return rows
        line = text.count("\n", 0, pos) + 1
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON: {exc.msg}", source=path, line=exc.lineno) from None
        rows.append((line, obj))


def read_rows(path: Path, *, lenient: bool = False) -> list[tuple[int, Any]]:
    """``(line, object)`` pairs of a JSONL file or a JSON list.

    Strict (default): a JSONL line that is not a JSON object raises ``DataError``. Lenient:
    such a line comes back as it parsed, or as :class:`InvalidJSON`, for the caller to skip. A
    JSON list that does not parse raises either way (its later rows cannot be found).
    """
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        return _json_list_rows(path, text)
    if lenient:
        return jsonl_rows(path)
    return list(read_jsonl(path))


def _single_letter(value: str | list[str], field_name: str, letters: tuple[str, ...]) -> int:
    if isinstance(value, list):
        if len(value) != 1:
            raise RowProblem(
                MalformedReason.SEVERAL_ANSWERS,
                f"{field_name}: expected one answer, got {len(value)}",
            )
        value = value[0]
    letter = answer_letter(value)
    if letter is None:
        raise RowProblem(
            MalformedReason.ANSWER_NOT_A_LETTER,
            f"{field_name}: '{value}' is not a choice letter like ' (A)'",
        )
    if letter not in letters:
        raise RowProblem(
            MalformedReason.ANSWER_NOT_A_CHOICE,
            f"{field_name}: '{value}' is not one of the choices {', '.join(letters)}",
        )
    return letters.index(letter)


def _row(obj: Any) -> Row:
    """Validate one parsed row; :class:`RowProblem` says what is wrong."""
    return validate_row(obj, Row, MalformedReason)


def _item(row: Row, polarity: Polarity, behaviour: str, index: int, line: int) -> Item:
    parsed = parse_question(row.question)
    matching = _single_letter(
        row.answer_matching_behavior, "answer_matching_behavior", parsed.letters
    )
    other = _single_letter(
        row.answer_not_matching_behavior, "answer_not_matching_behavior", parsed.letters
    )
    if matching == other:
        raise RowProblem(
            MalformedReason.SAME_ANSWER,
            "answer_matching_behavior and answer_not_matching_behavior are the same",
        )
    safe = matching if polarity is Polarity.MATCHING_IS_SAFE else other
    return Item(f"{behaviour}:{index}", behaviour, line, parsed, safe, matching)


def load_behaviour(
    file: BehaviourFile,
    polarities: catalog.PolaritySpec,
    *,
    min_stem_words: int = defaults.MIN_STEM_WORDS,
    strict: bool = False,
) -> BehaviourData:
    """Read one file: malformed rows are skipped and recorded, or raise ``DataError`` if strict."""
    polarity, polarity_from = polarities.resolve(file.identity, file.location)
    data = BehaviourData(file, polarity, polarity_from, file_sha256(file.path))
    # read leniently either way, so that strict mode stops at the first problem in file order
    for index, (line, obj) in enumerate(read_rows(file.path, lenient=True), start=1):
        data.rows += 1
        try:
            item = _item(_row(obj), polarity, file.behaviour, index, line)
        except RowProblem as problem:
            skip_or_refuse(
                problem, line=line, source=file.path, strict=strict, skipped=data.malformed
            )
            continue
        if item.parsed.stem_words < min_stem_words:
            data.dropped_empty_lines.append(line)
            continue
        data.items.append(item)
    if data.dropped_empty_lines:
        logger.warning(
            "%s: dropped %d row(s) with an empty or near-empty question (lines %s)",
            file.location,
            len(data.dropped_empty_lines),
            ", ".join(map(str, data.dropped_empty_lines[:_SHOWN])),
        )
    summary = data.malformed_summary()
    if summary is not None:
        logger.warning("%s [%s]", summary, file.location)
    if not data.items:
        why = f" ({summary})" if summary else ""
        raise DataError(f"no usable rows{why}", source=file.path)
    return data


def subsample(items: list[Item], limit: int | None, seed: int) -> list[Item]:
    """A seeded random subset in file order (all items when ``limit`` is None)."""
    if limit is None or limit >= len(items):
        return items
    chosen = sorted(random.Random(seed).sample(range(len(items)), limit))
    return [items[i] for i in chosen]


# --- samples --------------------------------------------------------------------------


def item_messages(text: str, condition: Condition) -> list[ChatMessage]:
    return apply_condition([ChatMessageUser(content=text)], condition)


def item_samples(item: Item, data: BehaviourData, condition: Condition) -> list[Sample]:
    """The item in published order and with every choice moved to another letter."""
    n = len(item.parsed.choices)
    samples = []
    for order_name, order in (
        (Order.ORIGINAL, tuple(range(n))),
        (Order.SWAPPED, swapped_order(n)),
    ):
        letters = item.parsed.letters
        safe_letter = letters[order.index(item.safe_index)]
        text = item.parsed.render(order, defaults.ANSWER_INSTRUCTION)
        metadata: dict[str, Any] = {
            "question_id": item.item_id,
            "behaviour": item.behaviour,
            "order": order_name.value,
            "safe_letter": safe_letter,
            "matching_letter": letters[order.index(item.matching_index)],
            "n_choices": n,
            "polarity": data.polarity.value,
            "source_line": item.line,
            **condition.metadata(),
            METADATA_KEY: {
                "letters": list(letters),
                "order": list(order),
                "source": data.file.location,
            },
        }
        samples.append(
            Sample(
                id=f"{item.item_id}:{order_name.value}",
                input=item_messages(text, condition),
                target=safe_letter,
                metadata=metadata,
            )
        )
    return samples


def build_dataset(
    behaviours: list[BehaviourData],
    condition: Condition,
    *,
    items_per_behaviour: int | None = None,
    seed: int = 0,
) -> MemoryDataset:
    samples: list[Sample] = []
    for data in behaviours:
        chosen = subsample(data.items, items_per_behaviour, seed)
        data.used = len(chosen)
        for item in chosen:
            samples.extend(item_samples(item, data, condition))
    name = "+".join(d.file.behaviour for d in behaviours)
    return MemoryDataset(samples, name=name[:120], location=behaviours[0].file.location)
