"""The ``local/`` decoding loop: rows leave the batch when they end, and every row still
gets the tokens (and logits) ``model.generate`` gives it.

A tiny randomly initialised Llama stands in for a checkpoint (no download, well under a
second a test); the prompts have different lengths, so the batch is left-padded as a real
one is.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM, LogitsProcessor, LogitsProcessorList

from alignprobe.providers.local import RowSampler, Sampling, greedy
from alignprobe.providers.local_decoding import Chooser, Decoded, EndTest, decode

STEPS = 9
PAD = 0


@pytest.fixture(scope="module")
def model() -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=64,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        pad_token_id=PAD,
    )
    return LlamaForCausalLM(config).eval()


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Four prompts of 3 to 7 tokens, left-padded."""
    lengths = [5, 3, 7, 4]
    width = max(lengths)
    generator = torch.Generator().manual_seed(1)
    ids = torch.full((len(lengths), width), PAD)
    mask = torch.zeros((len(lengths), width), dtype=torch.long)
    for row, length in enumerate(lengths):
        ids[row, width - length :] = torch.randint(1, 64, (length,), generator=generator)
        mask[row, width - length :] = 1
    return ids, mask


class _AsProcessor(LogitsProcessor):
    """A chooser run inside ``generate``: the chosen token is the only one left."""

    def __init__(self, choose: RowSampler) -> None:
        self.choose = choose

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        picks = self.choose.draw(scores, range(scores.shape[0]))
        chosen = torch.full_like(scores, float("-inf"))
        for row, token in enumerate(picks):
            chosen[row, token] = 0.0
        return chosen


def _generate(
    model: LlamaForCausalLM, processor: LogitsProcessor | None = None
) -> tuple[list[list[int]], torch.Tensor]:
    ids, mask = _batch()
    with torch.inference_mode():
        out = model.generate(
            input_ids=ids,
            attention_mask=mask,
            do_sample=False,
            max_new_tokens=STEPS,
            min_new_tokens=STEPS,
            pad_token_id=PAD,
            eos_token_id=None,
            return_dict_in_generate=True,
            output_logits=True,
            logits_processor=LogitsProcessorList([processor] if processor else []),
        )
    tokens = out.sequences[:, ids.shape[1] :].tolist()
    return tokens, torch.stack(out.logits).transpose(0, 1)


def _decode(
    model: LlamaForCausalLM,
    choose: Chooser,
    ended: EndTest,
    max_new_tokens: int = STEPS,
    keep_logits: bool = False,
) -> list[Decoded]:
    ids, mask = _batch()
    with torch.inference_mode():
        return decode(
            model,
            ids,
            mask,
            max_new_tokens=max_new_tokens,
            choose=choose,
            ended=ended,
            keep_logits=keep_logits,
        )


def _ends_after(lengths: Sequence[int]) -> dict[int, int]:
    return dict(enumerate(lengths))


def test_rows_that_end_early_leave_and_the_rest_get_generates_tokens(
    model: LlamaForCausalLM,
) -> None:
    expected, expected_logits = _generate(model)
    ends = _ends_after([2, 9, 4, 6])
    calls: list[int] = []

    def choose(scores: torch.Tensor, rows: Sequence[int]) -> list[int]:
        calls.append(len(rows))
        return greedy(scores, rows)

    decoded = _decode(model, choose, lambda row, tokens: len(tokens) >= ends[row], keep_logits=True)
    # the batch shrinks as rows end: 4 rows for 2 steps, 3 for 2, 2 for 2, then 1
    assert calls == [4, 4, 3, 3, 2, 2, 1, 1, 1]
    for row, answer in enumerate(decoded):
        assert answer.tokens == expected[row][: ends[row]]
        assert answer.logits is not None and answer.logits.shape == (ends[row], 64)
        torch.testing.assert_close(
            answer.logits, expected_logits[row, : ends[row]].float(), atol=1e-5, rtol=1e-4
        )


def test_sampled_rows_draw_what_generate_draws_with_the_same_seeds(
    model: LlamaForCausalLM,
) -> None:
    sampling = Sampling(STEPS, 1.0, 20, 0.95, False, ())
    seeds = [11, 22, 33, 44]
    expected, _ = _generate(model, _AsProcessor(RowSampler(seeds, sampling)))
    ends = _ends_after([3, 9, 1, 5])
    decoded = _decode(
        model, RowSampler(seeds, sampling).draw, lambda row, tokens: len(tokens) >= ends[row]
    )
    assert [answer.tokens for answer in decoded] == [expected[row][: ends[row]] for row in range(4)]
    assert all(answer.logits is None for answer in decoded)
    assert len(set(map(tuple, expected))) == 4  # each row its own draws


def test_a_row_ends_at_its_end_token_and_every_row_stops_at_the_budget(
    model: LlamaForCausalLM,
) -> None:
    expected, _ = _generate(model)
    stop_token = expected[1][2]  # row 1's third token ends it
    decoded = _decode(model, greedy, lambda row, tokens: tokens[-1] == stop_token, 4)
    row_one = expected[1][: expected[1].index(stop_token) + 1]
    assert decoded[1].tokens == row_one
    for row in (0, 2, 3):
        first = expected[row].index(stop_token) + 1 if stop_token in expected[row] else 9
        assert decoded[row].tokens == expected[row][: min(first, 4)]
