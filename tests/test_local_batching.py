"""``local/`` forms its batches the same way every time, whatever the timing.

A stand-in model with the provider's own :class:`Batcher` records every batch it is given;
samples reach it after random delays (another draw each run), over several turns, in two
tasks at once. The batches must be the same, request for request, in every run.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.model import (
    ChatMessage,
    ChatMessageUser,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    get_model,
    modelapi,
)
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.tool import ToolChoice, ToolInfo

from alignprobe.providers import local_batching
from alignprobe.providers.local_batching import Batcher, Request, admit_every_sample

#: every batch the stand-in generated: (model, prompts in batch order)
BATCHES: list[tuple[str, tuple[str, ...]]] = []


@modelapi(name="batch-recorder")
class BatchRecorder(ModelAPI):
    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig | None = None,
        **model_args: Any,
    ) -> None:
        config = admit_every_sample(config or GenerateConfig())
        super().__init__(model_name, base_url, api_key, [], config)
        self.batcher: Batcher | None = None

    def _run(self, batch: list[Request]) -> list[str]:
        BATCHES.append((self.model_name, tuple(r.prompt for r in batch)))
        return [f"answer to {r.prompt}" for r in batch]

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        if self.batcher is None:
            self.batcher = Batcher(self._run, batch_size=4)
        prompt = " | ".join(m.text for m in input)
        answer = await self.batcher.submit(prompt, 0, "sampling", config.max_connections)
        return ModelOutput.from_content(self.model_name, answer)


@solver
def wander(rng: random.Random, turns: int) -> Solver:
    """Waits a random while before each turn (the timing differs between runs)."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        for turn in range(turns if int(str(state.sample_id)[1:]) % 2 else 1):
            await asyncio.sleep(rng.random() * 0.05)
            if turn:
                state.messages.append(ChatMessageUser(content=f"and turn {turn}?"))
            state = await generate(state)
        return state

    return solve


def _task(name: str, rng: random.Random, size: int = 10) -> Task:
    return Task(
        name=name,
        dataset=[Sample(input=f"{name} question {i}", id=f"q{i}") for i in range(size)],
        solver=wander(rng, turns=2),
        epochs=2,
    )


def _batches(tmp_path: Path, timing_seed: int, **eval_args: Any) -> list[tuple[str, ...]]:
    BATCHES.clear()
    rng = random.Random(timing_seed)
    logs = eval(
        [_task("first", rng), _task("second", rng, size=7)],
        model=get_model("batch-recorder/m", memoize=False),
        log_dir=str(tmp_path / f"logs-{timing_seed}"),
        display="none",
        **eval_args,
    )
    assert all(log.status == "success" for log in logs)
    return [prompts for _, prompts in BATCHES]


@pytest.fixture
def quick_fallback(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(local_batching, "GRACE_SECONDS", 0.2)
    yield


def test_batches_are_the_same_whatever_the_timing(tmp_path: Path) -> None:
    first = _batches(tmp_path, timing_seed=1)
    second = _batches(tmp_path, timing_seed=2)
    assert first == second
    # (10 + 7 samples) x 2 epochs (the same prompts), every one a first turn, the odd a second
    prompts = [p for batch in first for p in batch]
    assert len(prompts) == 2 * len(set(prompts)) == 2 * (10 + 7) + 2 * (5 + 3)
    for batch in first:
        assert len({p.split()[0] for p in batch}) == 1  # a batch never mixes tasks
        assert 1 <= len(batch) <= 4
    # batches are full but for each round's last: few batches in all
    assert len(first) <= 2 * sum(-(-n // 4) for n in (20, 10, 14, 6))


def test_a_round_that_cannot_be_complete_still_starts_and_says_so(
    tmp_path: Path, quick_fallback: None, caplog: pytest.LogCaptureFixture
) -> None:
    # max_samples below the task's size: the eval's samples can never all wait at once
    with caplog.at_level(logging.WARNING, logger=local_batching.__name__):
        batches = _batches(tmp_path, timing_seed=3, max_samples=3)
    assert sum(len(b) for b in batches) == 2 * (10 + 7) + 2 * (5 + 3)
    assert "may differ from run to run" in caplog.text


def test_calls_outside_a_sample_are_batched_by_arrival_and_get_their_batchs_errors() -> None:
    seen: list[list[str]] = []

    def run(batch: list) -> list:  # type: ignore[type-arg]
        seen.append([r.prompt for r in batch])
        if any(r.prompt == "boom" for r in batch):
            raise RuntimeError("out of memory")
        return [f"answer to {r.prompt}" for r in batch]

    other = "greedy"

    async def main() -> list[object]:
        batcher = Batcher(run, batch_size=2)
        calls = [
            batcher.submit("a", 1, "sampling", None),
            batcher.submit("b", 2, "sampling", None),
            batcher.submit("c", 3, other, None),
            batcher.submit("d", 4, "sampling", None),
        ]
        answers = await asyncio.gather(*calls)
        failed = await asyncio.gather(
            batcher.submit("boom", 5, other, None), return_exceptions=True
        )
        return [*answers, *failed]

    results = asyncio.run(main())
    assert results[:4] == ["answer to a", "answer to b", "answer to c", "answer to d"]
    assert isinstance(results[4], RuntimeError)
    assert all(len(batch) <= 2 for batch in seen)
    assert ["a", "b"] in seen  # the same settings, up to the batch size
    assert not any("c" in batch and len(batch) > 1 for batch in seen)  # its own settings
