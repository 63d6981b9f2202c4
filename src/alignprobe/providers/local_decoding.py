"""The ``local/`` provider's decoding loop: a batch generated token by token, each row
leaving the batch as soon as it ends.

``model.generate`` keeps a finished row in its batch until the longest row is done. With
chat answers of 10 to 48 tokens most of a batch's compute then goes to rows that have
already ended. Here a row leaves the batch at its end-of-sequence token or stop string (its
rows of the key/value cache are dropped), and the remaining rows go on alone.

The steps are those of ``generate`` (one prefill of the left-padded prompts, then one token
a step with the cache, positions counted from the attention mask), so a batch that never
shrinks gives ``generate``'s tokens. Which rows share a step follows from the batch and from
where each row ends, both fixed by the requests themselves: the same batch gives the same
answers every time.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from transformers import DynamicCache, PreTrainedModel

#: picks the next token of each active row: (their logits, their batch rows) -> tokens
Chooser = Callable[[torch.Tensor, Sequence[int]], list[int]]
#: whether a row has ended after its new tokens so far: (batch row, tokens) -> ended
EndTest = Callable[[int, Sequence[int]], bool]


@dataclass
class Decoded:
    """One row's new tokens (its end-of-sequence token included) and, where asked, the
    raw logits of each step (``steps x vocabulary``)."""

    tokens: list[int]
    logits: torch.Tensor | None


def decode(
    model: PreTrainedModel,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    *,
    max_new_tokens: int,
    choose: Chooser,
    ended: EndTest,
    keep_logits: bool = False,
) -> list[Decoded]:
    """Generate up to ``max_new_tokens`` for every row of a left-padded batch."""
    rows = input_ids.shape[0]
    tokens: list[list[int]] = [[] for _ in range(rows)]
    logits_of: list[list[torch.Tensor]] = [[] for _ in range(rows)]
    active = list(range(rows))
    mask = attention_mask
    cache = _new_cache(model)
    cache_arg = _cache_argument(model)
    step_ids = input_ids
    for step in range(max_new_tokens):
        positions = mask.long().cumsum(-1) - 1
        positions = positions.masked_fill(mask == 0, 1)[:, -step_ids.shape[1] :]
        out = model(
            input_ids=step_ids,
            attention_mask=mask,
            position_ids=positions,
            use_cache=True,
            **{cache_arg: cache},
        )
        logits = out.logits[:, -1, :]
        chosen = choose(logits, active)
        staying: list[int] = []
        for place, row in enumerate(active):
            tokens[row].append(chosen[place])
            if keep_logits:
                logits_of[row].append(logits[place].float())
            if not ended(row, tokens[row]):
                staying.append(place)
        if not staying or step == max_new_tokens - 1:
            break
        next_ids = torch.tensor([chosen[place] for place in staying], device=input_ids.device)
        if len(staying) < len(active):
            keep = torch.tensor(staying, device=input_ids.device)
            cache.batch_select_indices(keep)
            mask = mask[keep]
            active = [active[place] for place in staying]
        mask = torch.cat([mask, mask.new_ones((mask.shape[0], 1))], dim=-1)
        step_ids = next_ids[:, None]
    return [
        Decoded(tokens[row], torch.stack(logits_of[row]) if keep_logits else None)
        for row in range(rows)
    ]


def _new_cache(model: PreTrainedModel) -> DynamicCache:
    """An empty key/value cache laid out for the model (sliding-window layers included);
    transformers releases before per-layer caches take no config."""
    try:
        return DynamicCache(config=model.config)
    except TypeError:
        return DynamicCache()


def _cache_argument(model: PreTrainedModel) -> str:
    """The name ``forward`` takes the cache under (``past_key_values`` before
    transformers 5.x renamed it ``cache``)."""
    parameters = inspect.signature(model.forward).parameters
    return "cache" if "cache" in parameters else "past_key_values"
