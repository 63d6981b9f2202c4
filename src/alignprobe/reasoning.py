"""The reasoning channel: what a model thought, apart from what it answered.

Reasoning arrives in two shapes. Reasoning models and their APIs return it as Inspect
``ContentReasoning`` blocks; open models write it into their text as ``<think>...</think>``
(some chat templates open the block in the prompt, so the reply holds only the closing
tag, and a reply cut off by ``max_tokens`` may never close it). :func:`split_reply` reads
both and returns the reasoning and the visible answer separately, so judges can look at
either, and say which channel the reasoning came from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from inspect_ai._util.content import ContentReasoning, ContentText
from inspect_ai.model import ChatMessage, ChatMessageAssistant


class ReasoningSource(StrEnum):
    """Where a sample's reasoning was read from."""

    CONTENT_REASONING = "content_reasoning"
    """Inspect ``ContentReasoning`` blocks (reasoning models and APIs)."""
    THINK_TAGS = "think_tags"
    """``<think>...</think>`` blocks in the reply text (open models)."""


_THINK = re.compile(r"<think\b[^>]*>(.*?)(?:</think\s*>|\Z)", re.DOTALL | re.IGNORECASE)
_CLOSE = re.compile(r"</think\s*>", re.IGNORECASE)


@dataclass(frozen=True)
class SplitReply:
    """A reply (or a whole transcript) split into reasoning and visible answer."""

    reasoning: str
    answer: str
    sources: tuple[ReasoningSource, ...] = ()

    @property
    def has_reasoning(self) -> bool:
        return bool(self.reasoning.strip())

    def source_label(self) -> str:
        """``content_reasoning``, ``think_tags``, both joined by ``+``, or ``none``."""
        return "+".join(s.value for s in self.sources) or "none"


def split_text(text: str) -> SplitReply:
    """``<think>`` blocks of ``text`` as reasoning, the rest as the answer.

    A lone ``</think>`` (the template opened the block) makes everything before it
    reasoning; an unclosed ``<think>`` (cut off) makes everything after it reasoning.
    """
    thoughts = [m.group(1).strip() for m in _THINK.finditer(text)]
    answer = _THINK.sub("", text)
    if not thoughts and (close := _CLOSE.search(text)):
        thoughts, answer = [text[: close.start()].strip()], text[close.end() :]
    sources = (ReasoningSource.THINK_TAGS,) if thoughts else ()
    return SplitReply("\n\n".join(t for t in thoughts if t), answer.strip(), sources)


def split_message(message: ChatMessageAssistant) -> SplitReply:
    """Reasoning blocks and ``<think>`` text of one assistant message, and its answer."""
    if isinstance(message.content, str):
        return split_text(message.content)
    thoughts: list[str] = []
    texts: list[str] = []
    for part in message.content:
        if isinstance(part, ContentReasoning):
            shown = part.summary if part.redacted else part.reasoning
            if shown and shown.strip():
                thoughts.append(shown.strip())
        elif isinstance(part, ContentText):
            texts.append(part.text)
    inline = split_text("\n".join(texts))
    sources = (ReasoningSource.CONTENT_REASONING,) if thoughts else ()
    return SplitReply(
        "\n\n".join([*thoughts, inline.reasoning] if inline.reasoning else thoughts),
        inline.answer,
        sources + inline.sources,
    )


def split_transcript(messages: Sequence[ChatMessage]) -> SplitReply:
    """All assistant messages of a conversation: every turn's reasoning and visible text,
    in order (an agent reasons across turns)."""
    parts = [split_message(m) for m in messages if isinstance(m, ChatMessageAssistant)]
    sources = tuple(dict.fromkeys(s for p in parts for s in p.sources))
    return SplitReply(
        "\n\n".join(p.reasoning for p in parts if p.reasoning),
        "\n\n".join(p.answer for p in parts if p.answer),
        sources,
    )


def final_answer(messages: Sequence[ChatMessage]) -> SplitReply:
    """The last assistant message, split."""
    for message in reversed(messages):
        if isinstance(message, ChatMessageAssistant):
            return split_message(message)
    return SplitReply("", "")
