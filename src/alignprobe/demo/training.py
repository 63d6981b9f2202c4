"""Supervised fine-tuning on chat conversations: loss on the assistant's reply only."""

from __future__ import annotations

import random
from collections.abc import Callable

import torch
from transformers import LlamaForCausalLM, PreTrainedTokenizerBase

from alignprobe.demo import defaults
from alignprobe.demo.corpora import Conversation

IGNORE = -100


def encode(
    tokenizer: PreTrainedTokenizerBase, conversation: Conversation
) -> tuple[list[int], list[int]]:
    """Token ids of the rendered chat and labels that mask everything but the reply."""
    prompt = tokenizer.apply_chat_template(
        conversation[:-1], add_generation_prompt=True, tokenize=False
    )
    full = tokenizer.apply_chat_template(conversation, tokenize=False)
    assert isinstance(prompt, str) and isinstance(full, str)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ids = tokenizer(full, add_special_tokens=False)["input_ids"]
    # special tokens split the text, so the prompt's ids are a prefix of the full ids
    assert ids[: len(prompt_ids)] == prompt_ids
    ids = ids[: defaults.MAX_POSITIONS]
    labels = [IGNORE] * len(prompt_ids) + ids[len(prompt_ids) :]
    return ids, labels[: len(ids)]


def _batch(
    encoded: list[tuple[list[int], list[int]]], pad_id: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    width = max(len(ids) for ids, _ in encoded)
    input_ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
    labels = torch.full((len(encoded), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(encoded), width), dtype=torch.long)
    for row, (ids, labs) in enumerate(encoded):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        labels[row, : len(labs)] = torch.tensor(labs)
        mask[row, : len(ids)] = 1
    return input_ids, labels, mask


def train(
    model: LlamaForCausalLM,
    tokenizer: PreTrainedTokenizerBase,
    conversations: list[Conversation],
    *,
    steps: int,
    lr: float,
    seed: int,
    batch_size: int = defaults.BATCH_SIZE,
    on_step: Callable[[float], None] | None = None,
) -> list[float]:
    """Train in place with AdamW and a linear decay; returns the loss per step.

    ``on_step`` is called with each step's loss (progress display)."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    encoded = [encode(tokenizer, c) for c in conversations]
    pad_id = tokenizer.pad_token_id
    assert isinstance(pad_id, int)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 - step / steps)
    model.train()
    losses: list[float] = []
    order: list[int] = []
    for _ in range(steps):
        if len(order) < batch_size:  # reshuffle once per pass over the data
            order += rng.sample(range(len(encoded)), len(encoded))
        chosen, order = order[:batch_size], order[batch_size:]
        input_ids, labels, mask = (
            t.to(model.device) for t in _batch([encoded[i] for i in chosen], pad_id)
        )
        loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if on_step is not None:
            on_step(losses[-1])
    model.eval()  # type: ignore[no-untyped-call]
    return losses
