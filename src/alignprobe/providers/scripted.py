"""``scripted/<script>``: an offline Inspect model provider with canned replies.

A *script* decides the reply to each request: a reply text and, optionally, the
top-logprob distribution of the first generated token (so logprob judges can be driven
offline). Scripts are either

* Python callables registered with :func:`register_script` (``scripted/<name>``), or
* a YAML file of rules (``scripted/path/to/script.yaml``)::

      rules:
        - match: "(?i)wish"          # regex searched in the last user message
          in: user                   # user | system | any  (default user)
          reply: "I wish for ..."
          top_logprobs: {"85": 0.9, "90": 0.1}
        - reply: "default answer"    # a rule without match always matches

Every output carries token usage, so Inspect never downloads a tokenizer.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from inspect_ai.model import (
    ChatMessage,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
    ModelAPI,
    modelapi,
)
from inspect_ai.tool import ToolInfo
from pydantic import BaseModel, ConfigDict, Field

from alignprobe.errors import ConfigError
from alignprobe.fileio import load_yaml, validate

# scripts import ScriptedReply from here, beside register_script
from alignprobe.providers.canned import OfflineModelAPI
from alignprobe.providers.canned import ScriptedReply as ScriptedReply


@dataclass(frozen=True)
class ScriptRequest:
    """What a script sees of one generate call."""

    messages: list[ChatMessage]
    config: GenerateConfig
    model_args: dict[str, Any]
    repeat_index: int
    """How many times this exact conversation was seen before by this model (0 first)."""
    call_index: int = 0
    """How many calls this model instance answered before this one (0 first)."""
    tools: list[ToolInfo] = field(default_factory=list)
    """The tools offered with this call."""

    @property
    def system(self) -> str:
        return "\n".join(m.text for m in self.messages if isinstance(m, ChatMessageSystem))

    @property
    def last_user(self) -> str:
        users = [m.text for m in self.messages if isinstance(m, ChatMessageUser)]
        return users[-1] if users else ""

    @property
    def transcript(self) -> str:
        return "\n".join(f"{m.role}: {m.text}" for m in self.messages)

    def arg(self, name: str, default: Any) -> Any:
        return self.model_args.get(name, default)


Script = Callable[[ScriptRequest], "ScriptedReply | str"]

_SCRIPTS: dict[str, Script] = {}


def register_script(name: str) -> Callable[[Script], Script]:
    """Register a Python script under ``scripted/<name>``."""

    def decorator(fn: Script) -> Script:
        _SCRIPTS[name] = fn
        return fn

    return decorator


def register_reply(name: str, text: str) -> None:
    """Register ``scripted/<name>``: a model that always replies ``text``."""
    _SCRIPTS[name] = lambda request: ScriptedReply(text)


def registered_scripts() -> list[str]:
    return sorted(_SCRIPTS)


def evenly_spaced_hit(rate: float, index: int) -> bool:
    """True for exactly ``round(rate * n)`` of the first ``n`` indices, spread evenly.

    Lets a script misbehave at an exact, known rate without randomness.
    """
    return math.floor((index + 1) * rate + 1e-9) > math.floor(index * rate + 1e-9)


def stable_fraction(text: str) -> float:
    """A deterministic pseudo-uniform number in [0, 1) derived from ``text``."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16) / float(16**12)


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    match: str | None = None
    in_: Literal["user", "system", "any"] = Field(default="user", alias="in")
    reply: str
    top_logprobs: dict[str, float] | None = None


class _RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[_Rule]


def _yaml_script(path: Path) -> Script:
    data = load_yaml(path)
    rules = validate(_RuleFile, data, source=path, error=ConfigError).rules
    compiled = [(re.compile(r.match) if r.match else None, r) for r in rules]

    def script(request: ScriptRequest) -> ScriptedReply:
        for pattern, rule in compiled:
            haystack = {
                "user": request.last_user,
                "system": request.system,
                "any": request.transcript,
            }[rule.in_]
            if pattern is None or pattern.search(haystack):
                return ScriptedReply(rule.reply, rule.top_logprobs)
        raise ConfigError("no rule matched the request and there is no default rule", source=path)

    return script


def resolve_script(name: str) -> Script:
    if name in _SCRIPTS:
        return _SCRIPTS[name]
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml"):
        return _yaml_script(candidate)
    raise ConfigError(
        f"unknown script '{name}': use a YAML rule file or one of {', '.join(registered_scripts())}",
        field="model",
    )


class ScriptedModelAPI(OfflineModelAPI):
    """Replies come from a script; deterministic, offline, with usage set."""

    def prepare_replies(self) -> None:
        self.script = resolve_script(self.model_name)
        self._seen: Counter[str] = Counter()
        self._calls = 0

    def reply(
        self, input: list[ChatMessage], tools: list[ToolInfo], config: GenerateConfig
    ) -> ScriptedReply:
        key = hashlib.sha256("\x00".join(f"{m.role}:{m.text}" for m in input).encode()).hexdigest()
        repeat_index = self._seen[key]
        self._seen[key] += 1
        call_index = self._calls
        self._calls += 1
        request = ScriptRequest(input, config, self.model_args, repeat_index, call_index, tools)
        result = self.script(request)
        return ScriptedReply(result) if isinstance(result, str) else result


@modelapi(name="scripted")
def scripted() -> type[ModelAPI]:
    return ScriptedModelAPI
