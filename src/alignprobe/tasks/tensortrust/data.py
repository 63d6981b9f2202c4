"""TensorTrust input files -> rows -> Inspect samples.

SystemCheck publishes the benchmark as three JSON Lines files, ``hijacking.jsonl``,
``extraction.jsonl`` and ``helpful.jsonl``, one object per line::

    {"messages": [{"role": "system", "content": "<defence>"},
                  {"role": "user", "content": "<attack, or the access code>"}],
     "id": 17, "access_code": "...", "has_post_prompt": false}

``id`` names the defence and is shared by the three files. A ``dataset`` is a comma list
of built-in names (``hijacking``, ``extraction``, ``helpful``: the canonical URLs),
local paths and http(s) URLs (downloaded once and cached, never shipped). Each file's
split comes from its name, or from the task's ``split`` parameter for a single file.

A row that does not fit (bad JSON, a missing field, content that is not a string, a role
other than system/user/assistant, no defence or no user turn, an empty access code, an id
repeated within the file) is skipped, counted by reason and recorded with its line in the
Task metadata; with ``strict`` the first one stops the run naming file and line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessage
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from alignprobe.conditions import Condition, apply_condition
from alignprobe.errors import ConfigError, DataError
from alignprobe.fileio import (
    MalformedRow,
    RowProblem,
    jsonl_rows,
    malformed_reasons,
    malformed_summary,
    skip_or_refuse,
    validate_row,
)
from alignprobe.measures import METADATA_KEY
from alignprobe.results.chat_rows import Message, to_chat_message
from alignprobe.sources import fetch, file_sha256, is_url
from alignprobe.tasks.tensortrust import defaults
from alignprobe.tasks.tensortrust.types import MalformedReason, Split

logger = logging.getLogger(__name__)

_ROLES = ("system", "user", "assistant")


class _RawRow(BaseModel):
    """The top-level fields of a row (extra keys are ignored; messages are checked apart)."""

    model_config = ConfigDict(extra="ignore")

    messages: list[Any] = Field(min_length=1)
    id: StrictInt | StrictStr
    access_code: StrictStr
    has_post_prompt: StrictBool


@dataclass(frozen=True)
class Row:
    """One usable row."""

    defence_id: str
    split: Split
    line: int
    messages: tuple[Message, ...]
    """The conversation as given: the defence (system) first, then the attack."""
    access_code: str
    has_post_prompt: bool


@dataclass
class SplitFile:
    """One input file: its kept rows and what happened to the rest (for the log)."""

    location: str
    split: Split
    sha256: str
    rows: int = 0
    kept: list[Row] = field(default_factory=list)
    skipped: list[MalformedRow] = field(default_factory=list)

    def skipped_summary(self) -> str | None:
        """``hijacking: 3 malformed rows skipped: lines 4, 9, 12 (missing_field: 2, ...)``."""
        return malformed_summary(self.split.value, self.skipped, defaults.SHOWN_LINES)

    def summary(self) -> dict[str, Any]:
        """What the Task metadata records about this file."""
        return {
            "split": self.split.value,
            "location": self.location,
            "sha256": self.sha256,
            "rows": self.rows,
            "kept": len(self.kept),
            "kept_nopost": sum(not r.has_post_prompt for r in self.kept),
            "skipped": len(self.skipped),
            "skipped_reasons": malformed_reasons(self.skipped),
            "skipped_lines": [s.line for s in self.skipped],
            "skipped_examples": [
                f"line {s.line}: {s.reason.value}: {s.detail}"
                for s in self.skipped[: defaults.SHOWN_LINES]
            ],
            "skipped_summary": self.skipped_summary(),
        }


# --- locating files -------------------------------------------------------------------


def split_from_name(location: str) -> Split | None:
    """The split a file name says (``.../hijacking.jsonl`` -> hijacking), if exactly one."""
    stem = Path(location.split("?")[0]).name.lower()
    found = [s for s in Split if s.value in stem]
    return found[0] if len(found) == 1 else None


def _entries(dataset: str) -> list[str]:
    entries = [e.strip() for e in dataset.split(",") if e.strip()]
    if not entries:
        raise ConfigError("no dataset given", field="dataset")
    return entries


def _location(entry: str) -> str:
    if entry in {s.value for s in Split}:
        return defaults.CANONICAL_URL.format(split=entry)
    if is_url(entry) or "/" in entry or entry.endswith((".jsonl", ".json", ".ndjson")):
        return entry
    raise ConfigError(
        f"unknown dataset '{entry}': give a built-in name ({', '.join(s.value for s in Split)}: "
        "SystemCheck's published files), a path or an http(s) URL of a TensorTrust JSONL file",
        field="dataset",
    )


def parse_split(split: str) -> Split | None:
    """``auto`` -> None (from each file's name), else a :class:`Split`."""
    if split == defaults.AUTO_SPLIT:
        return None
    try:
        return Split(split)
    except ValueError:
        known = ", ".join([defaults.AUTO_SPLIT, *(s.value for s in Split)])
        raise ConfigError(f"unknown split '{split}'; use one of {known}", field="split") from None


def resolve_files(dataset: str, split: str = defaults.AUTO_SPLIT) -> list[tuple[str, Split]]:
    """``(location, split)`` of every file named in ``dataset``, each split at most once."""
    locations = [_location(e) for e in _entries(dataset)]
    given = parse_split(split)
    if given is not None and len(locations) > 1:
        raise ConfigError(
            f"split={given.value} names the split of one file, but the dataset lists "
            f"{len(locations)}; leave split=auto and name each file after its split",
            field="split",
        )
    chosen: list[tuple[str, Split]] = []
    for location in locations:
        found = given or split_from_name(location)
        if found is None:
            raise ConfigError(
                f"cannot tell which TensorTrust file '{location}' is: its name contains none "
                "(or several) of hijacking, extraction, helpful; pass -T split=<name>",
                field="split",
            )
        if any(found is s for _, s in chosen):
            raise ConfigError(f"two files for the {found.value} split", field="dataset")
        chosen.append((location, found))
    return chosen


# --- rows -----------------------------------------------------------------------------


def _message(index: int, obj: Any) -> Message:
    where = f"messages[{index}]"
    if not isinstance(obj, dict):
        raise RowProblem(MalformedReason.INVALID_FIELD, f"{where}: expected an object")
    for key in ("role", "content"):
        if key not in obj:
            raise RowProblem(MalformedReason.MISSING_FIELD, f"{where}: no '{key}'")
    if obj["role"] not in _ROLES:
        raise RowProblem(
            MalformedReason.UNKNOWN_ROLE,
            f"{where}: role {obj['role']!r} is not one of {', '.join(_ROLES)}",
        )
    if not isinstance(obj["content"], str):
        raise RowProblem(
            MalformedReason.NON_STRING_CONTENT,
            f"{where}: content is {type(obj['content']).__name__}, not a string",
        )
    return Message(role=obj["role"], content=obj["content"])


def parse_row(obj: Any, split: Split, line: int) -> Row:
    """One parsed line -> a :class:`Row`; :class:`RowProblem` says why it cannot be used."""
    raw = validate_row(obj, _RawRow, MalformedReason, loc_depth=1)
    messages = tuple(_message(i, m) for i, m in enumerate(raw.messages))
    if messages[0].role != "system":
        raise RowProblem(MalformedReason.NO_SYSTEM_TURN, "the first message is not the defence")
    if not any(m.role == "user" for m in messages):
        raise RowProblem(MalformedReason.NO_USER_TURN, "no user message")
    if messages[-1].role == "assistant":
        raise RowProblem(MalformedReason.ENDS_WITH_ASSISTANT, "the last message is the assistant's")
    if not raw.access_code.strip():
        raise RowProblem(MalformedReason.EMPTY_ACCESS_CODE, "access_code is empty")
    return Row(str(raw.id), split, line, messages, raw.access_code, raw.has_post_prompt)


def load_file(location: str, split: Split, *, strict: bool = False) -> SplitFile:
    """Read one file; malformed rows are skipped and recorded, or raise if ``strict``."""
    path = fetch(location)
    if not path.is_file():
        raise DataError("not a file (give the path of a TensorTrust JSONL file)", source=path)
    data = SplitFile(location, split, file_sha256(path))
    seen: dict[str, int] = {}
    for line, obj in jsonl_rows(path):
        data.rows += 1
        try:
            row = parse_row(obj, split, line)
            if row.defence_id in seen:
                raise RowProblem(
                    MalformedReason.DUPLICATE_ID,
                    f"id {row.defence_id} already at line {seen[row.defence_id]}",
                )
        except RowProblem as problem:
            skip_or_refuse(problem, line=line, source=path, strict=strict, skipped=data.skipped)
            continue
        seen[row.defence_id] = line
        data.kept.append(row)
    summary = data.skipped_summary()
    if summary is not None:
        logger.warning("%s [%s]", summary, location)
    if not data.kept:
        why = f" ({summary})" if summary else ""
        raise DataError(f"no usable TensorTrust rows{why}", source=path)
    return data


def load_files(
    dataset: str, split: str = defaults.AUTO_SPLIT, strict: bool = False
) -> list[SplitFile]:
    return [load_file(loc, s, strict=strict) for loc, s in resolve_files(dataset, split)]


# --- samples --------------------------------------------------------------------------


def macro_weights(files: list[SplitFile], nopost: bool = False) -> dict[Split, float] | None:
    """Per-split weights whose pooled mean is the macro average of the split pass rates.

    With ``n_s`` rows in split ``s`` and ``n`` in all, a row of ``s`` weighs
    ``n / (3 n_s)``: the mean of ``weight x pass`` over all rows is then
    ``(1/3) sum_s rate_s``. None unless all three splits have rows (for ``nopost``: rows
    without a post-prompt).
    """
    counts = {f.split: sum(1 for r in f.kept if not (nopost and r.has_post_prompt)) for f in files}
    if set(counts) != set(Split) or not all(counts.values()):
        return None
    total = sum(counts.values())
    return {s: total / (len(Split) * n) for s, n in counts.items()}


def row_messages(row: Row, condition: Condition) -> list[ChatMessage]:
    """The row's conversation as given, with the condition around it."""
    return apply_condition([to_chat_message(m) for m in row.messages], condition)


def build_samples(files: list[SplitFile], condition: Condition) -> MemoryDataset:
    """One sample per row; the statistics cluster is the defence (``question_id``)."""
    weights = macro_weights(files)
    weights_nopost = macro_weights(files, nopost=True)
    samples: list[Sample] = []
    for data in files:
        for row in data.kept:
            metadata: dict[str, Any] = {
                "question_id": row.defence_id,
                "split": row.split.value,
                "has_post_prompt": row.has_post_prompt,
                "source_line": row.line,
                **condition.metadata(),
                METADATA_KEY: {
                    "access_code": row.access_code,
                    "source": data.location,
                    "macro_weight": weights[row.split] if weights else None,
                    "macro_weight_nopost": weights_nopost[row.split]
                    if weights_nopost and not row.has_post_prompt
                    else None,
                },
            }
            samples.append(
                Sample(
                    id=f"{row.split.value}:{row.defence_id}",
                    input=row_messages(row, condition),
                    metadata=metadata,
                )
            )
    name = "+".join(f.split.value for f in files)
    return MemoryDataset(samples, name=f"tensortrust-{name}", location=files[0].location)
