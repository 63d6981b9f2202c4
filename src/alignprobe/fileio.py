"""Read user files (YAML, JSON Lines) so that every error names the file and the line.

YAML mappings and sequences are loaded into dict/list subclasses that remember the line
of each key/item; a key written twice in one mapping is refused (naming the line of the
repeat) instead of the last one silently winning; :func:`validate` turns a pydantic error
into a :class:`DataError` that points at the offending line and field.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from alignprobe.errors import ConfigError, DataError, UserInputError
from alignprobe.sources import JSONL_SUFFIXES

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class LineDict(dict[str, Any]):
    """A YAML mapping that knows where it starts and where each key sits."""

    line: int = 0
    key_lines: dict[str, int]


class LineList(list[Any]):
    """A YAML sequence that knows where each item sits."""

    line: int = 0
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    pass


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _refuse_duplicate_keys(loader: _LineLoader, node: yaml.MappingNode) -> None:
    """A key written twice in one mapping is an error (YAML would keep the last silently).

    Keys brought in by a merge (``<<: *anchor``) may be overridden; only the keys written
    in the mapping itself count.
    """
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG:
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.get(key)
        except TypeError:  # an unhashable key: the constructor below says so
            continue
        line = key_node.start_mark.line + 1
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key '{key}' (first at line {first})",
                key_node.start_mark,
            )
        seen[key] = line


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    _refuse_duplicate_keys(loader, node)
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[str(key)] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(path: str | Path, *, error: type[UserInputError] = ConfigError) -> Any:
    """Load a YAML file keeping line numbers; syntax errors name file and line."""
    path = Path(path)
    if not path.is_file():
        raise error("file not found", source=path)
    text = path.read_text(encoding="utf-8")
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise error(f"invalid YAML: {exc.problem}", source=path, line=line) from None
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {exc}", source=path) from None


def load_yaml_mapping(path: Path, *, expects: str) -> LineDict:
    """A YAML data file whose top level is a mapping (``expects`` names its keys, for the
    message that refuses anything else)."""
    data = load_yaml(path, error=DataError)
    if not isinstance(data, LineDict):
        raise DataError(f"expected a mapping with {expects}", source=path, line=1)
    return data


def load_yaml_items(
    path: Path, key: str, item: type[M], file: type[BaseModel]
) -> tuple[list[M], list[int | None]]:
    """The items listed under ``key`` of a YAML data file, each with its line.

    Each item is validated on its own first, so that an error names the item's line; then
    the whole file as ``file`` (its other keys, an empty list).
    """
    data = load_yaml(path, error=DataError)
    raw = data.get(key) if isinstance(data, dict) else None
    items = (
        [validate(item, one, source=path, loc_prefix=(key, i)) for i, one in enumerate(raw)]
        if isinstance(raw, list)
        else []
    )
    validate(file, data, source=path)
    return items, item_lines(raw)


def load_by_format(
    path: Path, *, jsonl: Callable[[Path], T], yaml: Callable[[Path], T]
) -> tuple[Path, T]:
    """``path`` and what the loader of its format reads from it: JSON Lines by the file's
    suffix, YAML otherwise."""
    return path, (jsonl if path.suffix in JSONL_SUFFIXES else yaml)(path)


def line_of(data: Any, loc: tuple[int | str, ...]) -> int | None:
    """Best line number for a pydantic error location inside line-aware YAML data."""
    best: int | None = getattr(data, "line", None)
    node = data
    for part in loc:
        if isinstance(node, LineDict) and isinstance(part, str) and part in node:
            best = node.key_lines.get(part, best)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            best = node.item_lines[part]
            node = node[part]
        else:
            break
        if isinstance(node, LineDict | LineList):
            best = max(best or 0, node.line)
    return best


def item_lines(items: Any) -> list[int | None]:
    """Line of each item of a line-aware YAML list (``None`` where unknown)."""
    if isinstance(items, LineList):
        return list(items.item_lines)
    return [None] * (len(items) if isinstance(items, list) else 0)


def check_unique_ids(
    ids: list[str], lines: list[int | None], *, source: str | Path, what: str
) -> None:
    """Refuse a repeated id, naming the line of the repeat and of the first use."""
    seen: dict[str, int | None] = {}
    for item_id, line in zip(ids, lines, strict=True):
        remember_once(
            seen, item_id, line, source=source, label=f"{what} id '{item_id}'", field="id"
        )


def remember_once(
    seen: dict[str, int | None],
    key: str,
    line: int | None,
    *,
    source: str | Path,
    label: str,
    field: str,
) -> None:
    """Remember where ``key`` first stood; a second one is refused as ``duplicate <label>``
    naming both lines."""
    if key in seen:
        raise DataError(
            f"duplicate {label} (first at line {seen[key]})", source=source, line=line, field=field
        )
    seen[key] = line


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validate(
    model: type[M],
    data: Any,
    *,
    source: str | Path,
    line: int | None = None,
    loc_prefix: tuple[int | str, ...] = (),
    error: type[UserInputError] = DataError,
) -> M:
    """Validate ``data`` as ``model``; the error names file, line and field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        found_line = line_of(data, loc) if line is None else line
        field = _field_path(loc_prefix + loc) or None
        message = first["msg"]
        if len(exc.errors()) > 1:
            message += f" (and {len(exc.errors()) - 1} more problem(s))"
        raise error(message, source=source, line=found_line, field=field) from None


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line; bad JSON names the line."""
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", source=path)
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise DataError(f"invalid JSON: {exc.msg}", source=path, line=number) from None
            if not isinstance(obj, dict):
                raise DataError("expected a JSON object", source=path, line=number)
            yield number, obj


def read_jsonl_models(path: str | Path, model: type[M]) -> list[tuple[int, M]]:
    """Read a JSONL file where every row must validate as ``model``."""
    return [
        (number, validate(model, obj, source=path, line=number)) for number, obj in read_jsonl(path)
    ]


@dataclass(frozen=True)
class InvalidJSON:
    """A JSONL line that does not parse (kept in place of its object, for the caller to
    skip and count with its line)."""

    message: str


def jsonl_rows(path: Path) -> list[tuple[int, Any]]:
    """Every non-blank line of a JSONL file, parsed; a line that does not parse comes back
    as :class:`InvalidJSON`, so a loader can skip it and keep the rest."""
    rows: list[tuple[int, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                rows.append((number, json.loads(raw)))
            except json.JSONDecodeError as exc:
                rows.append((number, InvalidJSON(f"invalid JSON: {exc.msg}")))
    return rows


class RowProblem(ValueError):
    """Why a row cannot be used: ``reason`` (the family's category, counted in the log)
    and a detail (the caller adds file and line)."""

    def __init__(self, reason: StrEnum, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class MalformedRow:
    """A row a loader skipped and counted: its line, why (the family's vocabulary of
    reasons) and what exactly was wrong."""

    line: int
    reason: StrEnum
    detail: str


def malformed_reasons(rows: Sequence[MalformedRow]) -> dict[str, int]:
    """Skipped rows per reason, most frequent first."""
    counts = Counter(row.reason.value for row in rows)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def malformed_summary(label: str, rows: Sequence[MalformedRow], shown: int) -> str | None:
    """``<label>: 3 malformed rows skipped: lines 4, 9, 12 (missing_field: 2, ...)``, the
    first ``shown`` lines listed; ``None`` when no row was skipped."""
    if not rows:
        return None
    lines = [row.line for row in rows]
    listed = ", ".join(map(str, lines[:shown])) + (", ..." if len(lines) > shown else "")
    reasons = ", ".join(f"{reason}: {n}" for reason, n in malformed_reasons(rows).items())
    plural = "row" if len(lines) == 1 else "rows"
    return (
        f"{label}: {len(lines)} malformed {plural} skipped: "
        f"line{'s' if len(lines) > 1 else ''} {listed} ({reasons})"
    )


def skip_or_refuse(
    problem: RowProblem, *, line: int, source: Path, strict: bool, skipped: list[MalformedRow]
) -> None:
    """A malformed row is skipped and counted in ``skipped``; with ``strict`` the file is
    refused at that row instead."""
    if strict:
        raise DataError(problem.detail, source=source, line=line) from None
    skipped.append(MalformedRow(line, problem.reason, problem.detail))


def validate_row(
    obj: Any, model: type[M], reasons: type[StrEnum], *, loc_depth: int | None = None
) -> M:
    """One row read leniently (:func:`jsonl_rows`) as ``model``, or a :class:`RowProblem`
    with the family's reason ``INVALID_JSON``, ``NOT_AN_OBJECT``, ``MISSING_FIELD`` or
    ``INVALID_FIELD``; the detail names the field (its first ``loc_depth`` parts)."""
    if isinstance(obj, InvalidJSON):
        raise RowProblem(reasons["INVALID_JSON"], obj.message)
    if not isinstance(obj, dict):
        raise RowProblem(reasons["NOT_AN_OBJECT"], "expected a JSON object")
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][:loc_depth])
        detail = f"field '{where}': {first['msg']}" if where else first["msg"]
        reason = reasons["MISSING_FIELD" if first["type"] == "missing" else "INVALID_FIELD"]
        raise RowProblem(reason, detail) from None
