"""Samples that several probe families build the same way."""

from __future__ import annotations

from typing import Any

from inspect_ai.dataset import Sample
from inspect_ai.model import ChatMessageUser

from alignprobe.conditions import Condition, apply_condition


def one_turn_sample(
    sample_id: str, prompt: str, condition: Condition, metadata: dict[str, Any]
) -> Sample:
    """``prompt`` as the only user turn, under ``condition`` (its system text and example
    turns go first); the condition is recorded after the family's own ``metadata``."""
    return Sample(
        id=sample_id,
        input=apply_condition([ChatMessageUser(content=prompt)], condition),
        metadata={**metadata, **condition.metadata()},
    )
