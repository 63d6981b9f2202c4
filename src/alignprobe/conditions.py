"""Prompt conditions: what a probe is run under, around the sample's own messages.

``neutral`` (no system prompt) is the default everywhere. Built-in conditions live in
``data/conditions.yaml``; users add their own in a YAML file of the same shape and pass
it as the task parameter ``conditions_file``. The resolved condition (name, hash) is
written into every sample's metadata so reports can slice by condition.

A condition has up to three parts, all hashed into ``condition_hash``:

* ``system``: system-prompt text;
* ``training_context``: a described training environment and its reward, put in the same
  system message after ``system``;
* ``examples``: a few user / assistant turns placed after the system message and before
  the sample's own messages; one list for every probe, or per domain (``default`` plus
  any of ``code``, ``math``, ``knowledge``, ``writing``).
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from inspect_ai.model import ChatMessage, ChatMessageAssistant, ChatMessageSystem, ChatMessageUser
from pydantic import BaseModel, ConfigDict, Field, field_validator

from alignprobe.errors import ConfigError
from alignprobe.fileio import load_yaml, validate
from alignprobe.measures import METADATA_KEY

NEUTRAL = "neutral"
#: key of ``examples`` that holds the turns for every domain without its own list
DEFAULT_EXAMPLES = "default"
#: message-metadata flag (under ``METADATA_KEY``) on every turn a condition adds
EXAMPLE_FLAG = "condition_example"


class ExampleTurn(BaseModel):
    """One turn of a condition's vetted examples."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["user", "assistant"]
    content: str = Field(min_length=1)


Turns = tuple[ExampleTurn, ...]


def _check_turns(turns: Turns, where: str) -> Turns:
    """Examples are whole exchanges: user, assistant, user, assistant, ..."""
    if not turns:
        raise ValueError(f"{where}: give at least one user / assistant pair")
    for index, turn in enumerate(turns):
        expected = "user" if index % 2 == 0 else "assistant"
        if turn.role != expected:
            raise ValueError(
                f"{where}: turn {index + 1} is '{turn.role}', expected '{expected}' "
                "(examples alternate user, assistant and end with the assistant)"
            )
    if len(turns) % 2:
        raise ValueError(f"{where}: the last turn must be the assistant's")
    return turns


class Domain(StrEnum):
    """The kind of task an item is (instructed_hacking's domains); a condition's
    ``examples`` may be keyed by it, so it is defined here, below the families."""

    CODE = "code"
    MATH = "math"
    KNOWLEDGE = "knowledge"
    WRITING = "writing"


def example_domains() -> list[str]:
    """The domain names a condition's ``examples`` may be keyed by (besides ``default``)."""
    return [d.value for d in Domain]


class Condition(BaseModel):
    """One named prompt condition."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    system: str | None = None
    """System-prompt text; ``None`` means no system prompt at all."""
    training_context: str | None = None
    """A described training environment and reward; follows ``system`` in the system message."""
    examples: dict[str, Turns] = Field(default_factory=dict)
    """User / assistant turns before the sample's messages, per domain (``default``: every
    probe without a list of its own). A plain list in YAML is the ``default`` list."""
    description: str = ""
    tags: tuple[str, ...] = ()

    @field_validator("training_context")
    @classmethod
    def _context_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("training_context is blank; leave it out instead")
        return value

    @field_validator("examples", mode="before")
    @classmethod
    def _one_list_for_all(cls, value: Any) -> Any:
        return {DEFAULT_EXAMPLES: value} if isinstance(value, list | tuple) else value

    @field_validator("examples")
    @classmethod
    def _examples_shape(cls, value: dict[str, Turns]) -> dict[str, Turns]:
        known = [DEFAULT_EXAMPLES, *example_domains()]
        unknown = [key for key in value if key not in known]
        if unknown:
            raise ValueError(
                f"unknown examples key(s) {', '.join(unknown)}; use {', '.join(known)}"
            )
        for key, turns in value.items():
            _check_turns(turns, f"examples.{key}")
        return value

    @property
    def text_hash(self) -> str:
        """Hash of everything the model sees from this condition.

        A condition with only ``system`` hashes its text alone, as before examples and
        training contexts existed, so older logs stay comparable.
        """
        if not self.examples and self.training_context is None:
            return hashlib.sha256((self.system or "").encode()).hexdigest()[:12]
        parts = self.model_dump(mode="json", include={"system", "training_context", "examples"})
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:12]

    @property
    def system_text(self) -> str | None:
        """The system-message text this condition adds (``system`` + ``training_context``)."""
        parts = [p for p in (self.system, self.training_context) if p]
        return "\n\n".join(parts) if parts else None

    def examples_for(self, domain: str | None = None) -> Turns:
        """The example turns for a probe of ``domain`` (``None``: a probe without domains)."""
        if not self.examples:
            return ()
        if domain is not None and domain in self.examples:
            return self.examples[domain]
        if DEFAULT_EXAMPLES in self.examples:
            return self.examples[DEFAULT_EXAMPLES]
        raise ConfigError(
            f"condition '{self.name}' has examples for {', '.join(self.examples)} but none "
            f"for {f'domain {domain!r}' if domain else 'a probe without domains'}; "
            f"add a '{DEFAULT_EXAMPLES}' list",
            field=f"conditions.{self.name}.examples",
        )

    def metadata(self) -> dict[str, Any]:
        """What goes into sample metadata."""
        return {"condition": self.name, "condition_hash": self.text_hash}


class ConditionFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conditions: dict[str, Condition] = Field(default_factory=dict)


def _read(path: Path) -> dict[str, Condition]:
    data = load_yaml(path)
    parsed = validate(ConditionFile, data, source=path, error=ConfigError)
    return {name: c.model_copy(update={"name": name}) for name, c in parsed.conditions.items()}


def builtin_conditions() -> dict[str, Condition]:
    with resources.as_file(resources.files("alignprobe.data") / "conditions.yaml") as path:
        return _read(path)


def resolve_condition(name: str = NEUTRAL, conditions_file: str | Path | None = None) -> Condition:
    """Look ``name`` up in the user's file first, then in the built-ins."""
    known = builtin_conditions()
    if conditions_file is not None:
        known.update(_read(Path(conditions_file)))
    if name not in known:
        where = f" in {conditions_file} or the built-ins" if conditions_file else ""
        raise ConfigError(
            f"unknown condition '{name}'{where}; known: {', '.join(sorted(known))}",
            field="condition",
        )
    return known[name]


def is_condition_example(message: ChatMessage) -> bool:
    """True for a turn that a condition's ``examples`` put in front of the sample."""
    block = (message.metadata or {}).get(METADATA_KEY) or {}
    return bool(block.get(EXAMPLE_FLAG))


def _example_message(turn: ExampleTurn) -> ChatMessage:
    metadata = {METADATA_KEY: {EXAMPLE_FLAG: True}}
    if turn.role == "user":
        return ChatMessageUser(content=turn.content, metadata=metadata)
    return ChatMessageAssistant(content=turn.content, metadata=metadata)


def apply_condition(
    messages: list[ChatMessage], condition: Condition, domain: str | None = None
) -> list[ChatMessage]:
    """Put the condition around the conversation.

    The condition's system text (``system``, then ``training_context``) comes first. A
    probe that has its own system prompt (e.g. a system rule, a TensorTrust defence)
    keeps it: the condition text comes first and the probe's text follows in the same
    system message, so the model sees one system message as it would in deployment.
    The condition's example turns (those for ``domain``) follow the system message and
    come before the probe's own turns; each is flagged (:func:`is_condition_example`).
    """
    system = condition.system_text
    examples = [_example_message(t) for t in condition.examples_for(domain)]
    head: list[ChatMessage] = []
    rest = list(messages)
    if rest and isinstance(rest[0], ChatMessageSystem):
        first = rest.pop(0)
        head = [ChatMessageSystem(content=f"{system}\n\n{first.text}") if system else first]
    elif system:
        head = [ChatMessageSystem(content=system)]
    return [*head, *examples, *rest]
