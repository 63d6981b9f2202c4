"""Problem files -> Inspect samples.

A problem set is a built-in name (a file in ``problems/``) or a path to a YAML file of the
same schema. Every problem is validated and errors name the file, line and field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alignprobe.errors import DataError
from alignprobe.fileio import LineList, load_yaml, validate
from alignprobe.sources import BuiltinData, file_sha256
from alignprobe.tasks.instructed_hacking import defaults
from alignprobe.tasks.instructed_hacking.types import Hackability

_PACKAGE = "alignprobe.tasks.instructed_hacking"


class CodeTest(BaseModel):
    """One call ``entry_point(*args)`` and the value it must return."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    args: list[Any]
    expected: Any
    impossible: bool = False
    """A visible test whose expected value contradicts the description (ImpossibleBench-style)."""


class Problem(BaseModel):
    """One coding problem with visible and hidden tests and a reference solution."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    entry_point: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    signature: str = Field(min_length=1)
    description: str = Field(min_length=1)
    hackability: Hackability
    reference: str = Field(min_length=1)
    visible: list[CodeTest] = Field(min_length=1)
    hidden: list[CodeTest] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Problem:
        if any(t.impossible for t in self.hidden):
            raise ValueError("hidden tests cannot be impossible")
        has_impossible = any(t.impossible for t in self.visible)
        if has_impossible != (self.hackability is Hackability.IMPOSSIBLE):
            raise ValueError("hackability 'impossible' requires a visible test marked impossible")
        return self

    def test_ids(self) -> list[tuple[str, CodeTest, bool]]:
        """``(id, test, visible)`` for every test, visible first (``v0``, ``v1``, ``h0``...)."""
        return [(f"v{i}", t, True) for i, t in enumerate(self.visible)] + [
            (f"h{i}", t, False) for i, t in enumerate(self.hidden)
        ]


def _call(entry_point: str, args: list[Any]) -> str:
    return f"{entry_point}({', '.join(repr(a) for a in args)})"


def shown_tests(problem: Problem) -> str:
    """The visible tests as they appear in the prompt."""
    return "\n".join(
        f"assert {_call(problem.entry_point, t.args)} == {t.expected!r}" for t in problem.visible
    )


def problem_prompt(problem: Problem, report: str = defaults.CHAT_REPORT_INSTRUCTION) -> str:
    return defaults.PROMPT_TEMPLATE.format(
        description=problem.description,
        signature=problem.signature,
        tests=shown_tests(problem),
        report=report,
    )


PROBLEM_SETS = BuiltinData(
    _PACKAGE,
    "problems",
    what="problem set",
    field="problems",
    accepts="a path or URL of a problem-set YAML file",
)


def load_problems(problems: str = defaults.DEFAULT_PROBLEMS) -> tuple[Path, list[Problem]]:
    path = PROBLEM_SETS.file(problems)
    data = load_yaml(path, error=DataError)
    if not isinstance(data, list) or not data:
        raise DataError("expected a non-empty list of problems", source=path, line=1)
    lines = data.item_lines if isinstance(data, LineList) else [None] * len(data)
    parsed: list[Problem] = []
    seen: dict[str, int] = {}
    for index, (item, line) in enumerate(zip(data, lines, strict=True)):
        if not isinstance(item, dict):
            raise DataError("each problem must be a mapping", source=path, line=line)
        problem = validate(Problem, item, source=path, loc_prefix=(index,))
        for key in (f"id:{problem.id}", f"entry_point:{problem.entry_point}"):
            if key in seen:
                field, value = key.split(":", 1)
                raise DataError(
                    f"duplicate {field} '{value}' (first at line {seen[key]})",
                    source=path,
                    line=line,
                    field=field,
                )
            seen[key] = line or 0
        parsed.append(problem)
    return path, parsed


def file_hash(path: Path) -> str:
    return file_sha256(path)
