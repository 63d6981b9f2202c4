"""Prime the answer letter: end the conversation with ``(`` where the model continues it.

A small local model asked "Answer with the letter of your choice only." often starts its
reply with words (SmolLM2-135M: ``is``, ``Your``), so the first generated token holds no
letter probability and the answer is unscored. Ending the conversation with the assistant
prefill ``(`` makes the next token the letter. Only models that continue a final assistant
message are primed (:func:`alignprobe.models.continuation.continues_final_message`: ``hf/``
checkpoints loaded by alignprobe, ``vllm/``); API models answer as before. Each score
records the prefill used (``prefill``: ``"("`` or ``null``).
"""

from __future__ import annotations

from enum import StrEnum

from inspect_ai.model import ChatMessageAssistant, get_model
from inspect_ai.solver import Generate, Solver, TaskState, solver

from alignprobe.models.continuation import continues_final_message
from alignprobe.tasks.corrigibility_mcq import defaults

#: ``TaskState.store`` key holding the prefill of the sample (None: not primed)
PREFILL_KEY = "corrigibility_mcq:prefill"


class Prime(StrEnum):
    """When the answer letter is primed with an assistant prefill."""

    AUTO = "auto"
    """On models that continue a final assistant message (local ``hf/``, ``vllm/``)."""
    NEVER = "never"
    """Never: every model answers a plain question (the first-token reading)."""


@solver
def prime_answer(prime: Prime = Prime.AUTO) -> Solver:
    """Append the assistant prefill where ``prime`` and the model allow it."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        primed = prime is Prime.AUTO and continues_final_message(get_model())
        prefill = defaults.ANSWER_PREFILL if primed else None
        if prefill is not None:
            state.messages.append(ChatMessageAssistant(content=prefill))
        state.store.set(PREFILL_KEY, prefill)
        return state

    return solve


def prefill_of(state: TaskState) -> str | None:
    value = state.store.get(PREFILL_KEY, None)
    return str(value) if value is not None else None
