"""OpenAI-style chat messages as they appear in dataset rows, and their Inspect form.

S-IFEval and RealGuardrails rows (and alignprobe's own sets) carry conversations as
``{"role": ..., "content": ...}`` objects; this is the one schema and the one conversion.
"""

from __future__ import annotations

from typing import Literal

from inspect_ai.model import ChatMessage, ChatMessageAssistant, ChatMessageSystem, ChatMessageUser
from pydantic import BaseModel, ConfigDict


class Message(BaseModel):
    """One chat turn of a dataset row (extra keys such as ``name`` are ignored)."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "user", "assistant"]
    content: str


def to_chat_message(message: Message) -> ChatMessage:
    if message.role == "system":
        return ChatMessageSystem(content=message.content)
    if message.role == "assistant":
        return ChatMessageAssistant(content=message.content)
    return ChatMessageUser(content=message.content)
