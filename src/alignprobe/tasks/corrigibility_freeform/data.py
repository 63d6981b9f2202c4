"""Corrigibility scenarios -> Inspect samples.

``questions`` is a comma list of: ``alignprobe`` (the scenarios written for this project,
``scenarios.yaml``), ``caa/<behaviour>`` (the CAA open-ended test split, downloaded once and
cached), or a path/URL of a YAML scenario file (this folder's schema) or of a JSON list of
``{"question": ...}`` objects (the CAA open-ended format).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from inspect_ai.dataset import MemoryDataset
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from alignprobe.conditions import Condition
from alignprobe.errors import ConfigError, DataError
from alignprobe.fileio import LineList, load_yaml, validate
from alignprobe.sources import fetch, file_sha256, is_url
from alignprobe.tasks.corrigibility_freeform import defaults
from alignprobe.tasks.corrigibility_freeform.types import Category
from alignprobe.tasks.corrigibility_mcq import catalog
from alignprobe.tasks.corrigibility_mcq.data import read_rows
from alignprobe.tasks.samples import one_turn_sample

_CAA_OPEN_ENDED_URL = (
    f"https://raw.githubusercontent.com/nrimsky/CAA/{catalog.CAA_REF}/datasets/test/"
    "{behaviour}/" + catalog.CAA_OPEN_ENDED_FILE
)


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must be non-empty text")
    return value.strip()


class Scenario(BaseModel):
    """One scenario written for this project."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    category: Category
    prompt: str

    _check_prompt = field_validator("prompt")(_text)


class ScenarioFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenarios: list[Scenario] = Field(min_length=1)


class OpenEndedRow(BaseModel):
    """One row of a CAA open-ended file (other keys are ignored)."""

    model_config = ConfigDict(extra="ignore")

    question: str

    _check_question = field_validator("question")(_text)


class Question(BaseModel):
    """A question ready to ask: from a scenario or an open-ended file."""

    question_id: str
    behaviour: str
    category: str
    text: str
    source: str
    line: int | None = None


def _builtin_file() -> Path:
    folder = resources.files("alignprobe.tasks.corrigibility_freeform")
    return Path(str(folder / "scenarios.yaml"))


def load_scenarios(path: Path) -> list[Question]:
    """A YAML scenario file; duplicate ids and bad fields name the file and line."""
    data = load_yaml(path, error=DataError)
    parsed = validate(ScenarioFile, data, source=path)
    items = data["scenarios"] if isinstance(data, dict) else []
    lines = items.item_lines if isinstance(items, LineList) else [None] * len(parsed.scenarios)
    seen: set[str] = set()
    out: list[Question] = []
    for scenario, line in zip(parsed.scenarios, lines, strict=True):
        if scenario.id in seen:
            raise DataError(
                f"duplicate scenario id '{scenario.id}'", source=path, line=line, field="id"
            )
        seen.add(scenario.id)
        category = scenario.category.value
        out.append(
            Question(
                question_id=scenario.id,
                behaviour=category,
                category=category,
                text=scenario.prompt,
                source=str(path),
                line=line,
            )
        )
    return out


def load_open_ended(path: Path, location: str) -> list[Question]:
    """A JSON list (or JSONL) of ``{"question": ...}``; the behaviour is taken from the path."""
    where = PurePosixPath(urlparse(location).path if is_url(location) else location)
    name = where.parent.name if where.name == catalog.CAA_OPEN_ENDED_FILE else where.stem
    behaviour = f"caa/{name}" if where.name == catalog.CAA_OPEN_ENDED_FILE else name
    out: list[Question] = []
    for index, (line, obj) in enumerate(read_rows(path), start=1):
        try:
            if not isinstance(obj, dict):
                raise ValueError("expected a JSON object with a 'question'")
            row = OpenEndedRow.model_validate(obj)
        except (ValueError, ValidationError) as exc:
            message = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            raise DataError(message, source=path, line=line, field="question") from None
        out.append(
            Question(
                question_id=f"{behaviour}:{index}",
                behaviour=behaviour,
                category=behaviour,
                text=row.question,
                source=location,
                line=line,
            )
        )
    if not out:
        raise DataError("no questions", source=path)
    return out


def load_questions(questions: str) -> tuple[list[Question], dict[str, str]]:
    """All questions of a comma list, and the sha256 of every file read."""
    out: list[Question] = []
    hashes: dict[str, str] = {}
    for entry in (e.strip() for e in questions.split(",")):
        if not entry:
            continue
        if entry == defaults.BUILTIN_QUESTIONS:
            path, location = _builtin_file(), entry
        elif entry.startswith("caa/"):
            location = _CAA_OPEN_ENDED_URL.format(behaviour=entry.removeprefix("caa/"))
            path = fetch(location)
        elif is_url(entry) or "/" in entry or entry.endswith((".yaml", ".yml", ".json", ".jsonl")):
            path, location = fetch(entry), entry
        else:
            raise ConfigError(
                f"unknown question set '{entry}': use 'alignprobe' (built-in scenarios), "
                "caa/<behaviour> (e.g. caa/survival-instinct), or a path or URL of a YAML "
                "scenario file or a JSON list of {question}",
                field="questions",
            )
        hashes[location] = file_sha256(path)
        if path.suffix in (".yaml", ".yml"):
            out.extend(load_scenarios(path))
        else:
            out.extend(load_open_ended(path, location))
    if not out:
        raise ConfigError("no questions given", field="questions")
    ids = [q.question_id for q in out]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ConfigError(
            f"question ids given twice: {', '.join(duplicates[:5])}", field="questions"
        )
    return out, hashes


def question_samples(questions: list[Question], condition: Condition) -> MemoryDataset:
    samples = [
        one_turn_sample(
            q.question_id,
            q.text,
            condition,
            {
                "question_id": q.question_id,
                "behaviour": q.behaviour,
                "category": q.category,
                "question": q.text,
                "source_line": q.line,
            },
        )
        for q in questions
    ]
    return MemoryDataset(samples, name=defaults.TASK_NAME)
