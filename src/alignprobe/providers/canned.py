"""Build an Inspect ``ModelOutput`` for a canned reply, as a real provider would return it.

Shared by the offline providers (``scripted/...`` and the demo judge): the reply text, the
first token's top-logprob distribution where one is given, and token usage (so Inspect
never downloads a tokenizer to count tokens); :class:`ScriptedReply`, what such a provider
replies; and :class:`OfflineModelAPI`, the model API they both build on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from inspect_ai._util.content import Content, ContentReasoning, ContentText
from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    GenerateConfig,
    Logprob,
    Logprobs,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    TopLogprob,
)
from inspect_ai.tool import ToolCall, ToolChoice, ToolInfo

#: log-probability used for a token whose probability is zero (log(0) is -inf)
_LOG_ZERO = -1e9


@dataclass
class ScriptedReply:
    """A canned reply; ``top_logprobs`` maps token -> probability for the first token."""

    text: str
    top_logprobs: dict[str, float] | None = None
    stop_reason: Literal["stop", "max_tokens", "content_filter"] = "stop"
    extra: dict[str, Any] = field(default_factory=dict)
    reasoning: str | None = None
    """Returned as a ``ContentReasoning`` block (a reasoning model's hidden channel)."""
    tool_calls: list[ToolCall] = field(default_factory=list)
    """Tool calls the reply makes (the script should only call tools it was offered)."""
    top_k: int | None = None
    """Keep only the ``top_k`` most likely of ``top_logprobs`` (None: all of them)."""


def first_token_logprobs(top_probs: dict[str, float], top_k: int | None = None) -> Logprobs:
    """Token -> probability as OpenAI-style logprobs of the first generated token."""
    ranked = sorted(top_probs.items(), key=lambda kv: -kv[1])[: top_k or len(top_probs)]
    tops = [TopLogprob(token=t, logprob=math.log(p) if p > 0 else _LOG_ZERO) for t, p in ranked]
    first = tops[0]
    return Logprobs(content=[Logprob(token=first.token, logprob=first.logprob, top_logprobs=tops)])


def canned_output(
    model_name: str,
    input: list[ChatMessage],
    text: str,
    *,
    top_probs: dict[str, float] | None = None,
    top_k: int | None = None,
    stop_reason: Literal["stop", "max_tokens", "content_filter", "tool_calls"] = "stop",
    reasoning: str | None = None,
    tool_calls: list[ToolCall] | None = None,
) -> ModelOutput:
    """A one-choice output with optional first-token logprobs and word-count usage.

    ``reasoning`` becomes a ``ContentReasoning`` block before the text (as reasoning
    models' providers return it); ``tool_calls`` are the assistant's tool calls.
    """
    input_tokens = sum(len(m.text.split()) for m in input)
    output_tokens = max(1, len(text.split()) + len((reasoning or "").split()))
    content: str | list[Content] = text
    if reasoning is not None:
        content = [ContentReasoning(reasoning=reasoning), ContentText(text=text)]
    message = ChatMessageAssistant(
        content=content, model=model_name, source="generate", tool_calls=tool_calls or None
    )
    return ModelOutput(
        model=model_name,
        choices=[
            ChatCompletionChoice(
                message=message,
                stop_reason="tool_calls" if tool_calls else stop_reason,
                logprobs=first_token_logprobs(top_probs, top_k) if top_probs else None,
            )
        ],
        usage=ModelUsage(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            total_tokens=input_tokens + output_tokens,
        ),
    )


class OfflineModelAPI(ModelAPI):
    """An Inspect model API that answers in-process: no API key, no server, 64 connections.

    Subclasses check their model name and load what their replies need in
    :meth:`prepare_replies`, and say what to answer in :meth:`reply`; the output is built
    as a real provider's would be (:func:`canned_output`).
    """

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig | None = None,
        **model_args: Any,
    ) -> None:
        super().__init__(model_name, base_url, api_key, [], config or GenerateConfig())
        self.model_args = model_args
        self.prepare_replies()

    def prepare_replies(self) -> None:
        """Check the model name and load what the replies need (before the first sample)."""

    def reply(
        self, input: list[ChatMessage], tools: list[ToolInfo], config: GenerateConfig
    ) -> ScriptedReply:
        """What to answer this request with."""
        raise NotImplementedError

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        reply = self.reply(input, tools, config)
        return canned_output(
            self.model_name,
            input,
            reply.text,
            top_probs=reply.top_logprobs,
            top_k=reply.top_k,
            stop_reason=reply.stop_reason,
            reasoning=reply.reasoning,
            tool_calls=reply.tool_calls,
        )

    def max_connections(self) -> int:
        return 64
