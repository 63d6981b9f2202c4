"""Structured yes/no judge replies: ``REASONING: ...`` then ``NAME: YES|NO`` lines.

A missing or malformed line leaves that name *unscored* with a reason quoting the reply;
the raw reply is always kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from inspect_ai.model import CachePolicy, Model

from alignprobe.scorers.grader import greedy_config

_REASONING = re.compile(r"^[\W_]*reasoning[\W_]*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)


@cache
def _line(name: str) -> re.Pattern[str]:
    return re.compile(rf"^[\W_]*{name}[\W_]*:[\s*_]*(YES|NO)\b", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class YesNoReply:
    """A judge reply, parsed: each name's YES (True), NO (False) or missing (None)."""

    values: dict[str, bool | None]
    reasoning: str | None
    reply: str

    def reason(self, name: str) -> str | None:
        """Why ``name`` has no value (``None`` when it has one)."""
        if self.values.get(name) is not None:
            return None
        shown = " ".join(self.reply.split())[:120]
        return f"no '{name.upper()}: YES|NO' line in the judge reply {shown!r}"

    def value(self, name: str) -> float:
        """1.0 / 0.0, NaN when missing."""
        found = self.values.get(name)
        return float("nan") if found is None else float(found)

    def metadata(self) -> dict[str, Any]:
        return {"values": self.values, "reasoning": self.reasoning, "reply": self.reply}


def parse_yes_no(reply: str, names: Sequence[str]) -> YesNoReply:
    """Read ``NAME: YES|NO`` for each of ``names`` (the last line of each wins)."""
    values: dict[str, bool | None] = {}
    for name in names:
        found = _line(name).findall(reply)
        values[name] = found[-1].upper() == "YES" if found else None
    reasoning = _REASONING.search(reply)
    return YesNoReply(values, reasoning.group(1).strip() if reasoning else None, reply)


async def ask_yes_no(
    judge: Model,
    prompt: str,
    names: Sequence[str],
    *,
    max_tokens: int = 400,
    cache: bool | CachePolicy = True,
) -> YesNoReply:
    """One greedy judge call, parsed."""
    output = await judge.generate(
        prompt, config=greedy_config(judge, max_tokens=max_tokens), cache=cache
    )
    return parse_yes_no(output.completion, names)
