"""Task parameters a user writes (``-T key=value``, a suite's ``params``), checked first.

:func:`check_task_params` holds every parameter against the task function's signature
(unknown names, values of the wrong type) before a task is built, so a typo or a word
where a number belongs is one line naming the parameter, never a traceback from deep in
Inspect. Ranges are the task's own business: a task calls :func:`require_at_least` /
:func:`require_positive` on its arguments and raises :class:`ConfigError` naming the
parameter.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ConfigDict, TypeAdapter, ValidationError

from alignprobe.errors import ConfigError


@dataclass(frozen=True)
class FamilyDefaults:
    """A probe family's name, comparability version and defaults of the task parameters
    every family takes (``alignprobe.tasks.standard_params``).

    Replies per item (Inspect epochs) are called ``samples`` or ``epochs``: give one.
    Most families are one of two kinds, each with its own constructor: :meth:`sampled`
    (several replies per item at temperature 1) or :meth:`greedy` (one reply per item at
    temperature 0, called ``epochs`` as in the benchmarks they come from).
    """

    name: str
    version: str
    _: KW_ONLY
    temperature: float
    max_tokens: int
    samples: int | None = None
    epochs: int | None = None

    def __post_init__(self) -> None:
        if (self.samples is None) == (self.epochs is None):
            raise ValueError(f"{self.name}: give exactly one of samples or epochs")

    @classmethod
    def sampled(cls, name: str, version: str, *, samples: int, max_tokens: int) -> FamilyDefaults:
        """A family that samples ``samples`` replies per item at temperature 1."""
        return cls(name, version, samples=samples, temperature=1.0, max_tokens=max_tokens)

    @classmethod
    def greedy(cls, name: str, version: str, *, max_tokens: int) -> FamilyDefaults:
        """A family that takes one reply per item at temperature 0 (``epochs``)."""
        return cls(name, version, epochs=1, temperature=0.0, max_tokens=max_tokens)

    @property
    def replies(self) -> tuple[Literal["samples", "epochs"], int]:
        """The replies-per-item parameter's name and default."""
        if self.samples is not None:
            return "samples", self.samples
        assert self.epochs is not None
        return "epochs", self.epochs


#: a number written for a text parameter (``-T ids=3``) is the text ``"3"``
_COERCE = ConfigDict(coerce_numbers_to_str=True)


def parse_key_values(pairs: tuple[str, ...], field: str, empty: Any = "") -> dict[str, Any]:
    """``KEY=VALUE`` command-line pairs (``-T``, ``-M``, ``--generate``); values are YAML
    scalars as Inspect parses them, an empty value is ``empty``."""
    args: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"expected KEY=VALUE, got '{pair}'", field=field)
        args[key] = yaml.safe_load(value) if value else empty
    return args


def _type_name(annotation: Any) -> str:
    name = getattr(annotation, "__name__", None)
    return name if isinstance(name, str) and not typing.get_args(annotation) else str(annotation)


def check_task_params(
    task: str,
    fn: Callable[..., Any],
    params: Mapping[str, Any],
    *,
    field_prefix: str = "",
    source: str | Path | None = None,
    lines: Mapping[str, int | None] | None = None,
) -> dict[str, Any]:
    """``params`` checked against ``fn``'s signature; returns them as the annotated types.

    ``field_prefix`` names where the user wrote them (``-T `` or ``tasks[0].params.``),
    ``source`` / ``lines`` (parameter -> line) the file and line, where there is one.
    """
    hints = typing.get_type_hints(fn)
    hints.pop("return", None)
    out: dict[str, Any] = {}
    for name, value in params.items():
        line = (lines or {}).get(name)
        if name not in hints:
            raise ConfigError(
                f"task '{task}' has no parameter '{name}'; it takes: {', '.join(hints)}",
                source=source,
                line=line,
                field=f"{field_prefix}{name}",
            )
        annotation = hints[name]
        try:
            # a true/false value is not a number (lax validation would read True as 1)
            out[name] = TypeAdapter(annotation, config=_COERCE).validate_python(
                value, strict=isinstance(value, bool)
            )
        except ValidationError:
            raise ConfigError(
                f"expected {_type_name(annotation)}, got {value!r}",
                source=source,
                line=line,
                field=f"{field_prefix}{name}",
            ) from None
    return out


def require_at_least(minimum: float, **values: float | None) -> None:
    """Each given value (``None``: not set) is at least ``minimum``, else a ConfigError."""
    for name, value in values.items():
        if value is not None and value < minimum:
            raise ConfigError(f"must be at least {minimum:g}, got {value:g}", field=name)


def require_positive(**values: float | None) -> None:
    """Each given value (``None``: not set) is above zero, else a ConfigError."""
    for name, value in values.items():
        if value is not None and value <= 0:
            raise ConfigError(f"must be above 0, got {value:g}", field=name)
