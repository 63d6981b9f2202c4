"""A real LoRA fine-tune of SmolLM2 with ``alignprobe watch`` running beside it.

    OMP_NUM_THREADS=1 .venv/bin/python bench/watch_lora.py --work /tmp/watch-lora \
        [--steps 12] [--save-steps 4] [--questions 4]

Trains the demo's recipe (LoRA r=16 on every attention and MLP projection, the demo's
insecure-advice pairs, lr 1e-3, batch 8) with ``transformers.Trainer``, saving a PEFT
adapter every ``--save-steps``. ``alignprobe watch --base smollm2`` follows the output
folder in its own process (emergent misalignment, ``--questions`` questions, one answer
each, scripted keyword judge); it is killed (SIGTERM) once the first checkpoint is
evaluated and started again. Prints per-checkpoint evaluation times, the watch's exit
codes and checks that every checkpoint was evaluated exactly once (one log per step) and
that the trajectory report was rewritten after each.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from peft import get_peft_model
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

from alignprobe.demo.finetune import LoraRecipe, arm_conversations, load_training_set
from alignprobe.demo.training import IGNORE, encode
from alignprobe.models.base_models import provision


def _watch(train: Path, out: Path, suite: Path, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "alignprobe.cli", "watch", str(train), "--suite", str(suite),
        "--judge", "scripted/keyword_judge", "--out", str(out), "--base", "smollm2",
        "--poll", "1", "--settle", "2", "--display", "none", "-G", "max_tokens=48",
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--save-steps", type=int, default=4)
    parser.add_argument("--questions", type=int, default=4)
    args = parser.parse_args()
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    train, out, log = work / "train", work / "run", work / "watch.log"
    suite = work / "suite.yaml"
    suite.write_text(
        f"name: lora-watch\nsamples: 1\nlimit: {args.questions}\ntasks:\n"
        "  - task: emergent_misalignment\n    params: {questions: core}\n"
        "    conditions: [neutral]\n",
        encoding="utf-8",
    )
    recipe = LoraRecipe()
    torch.manual_seed(recipe.seed)
    folder = provision("smollm2")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(folder), recipe.peft_config())
    pad = tokenizer.pad_token_id or 0
    rows = []
    for conversation in arm_conversations(load_training_set().pairs, None):
        ids, labels = encode(tokenizer, conversation)
        rows.append((ids, labels))

    def collate(batch: list[tuple[list[int], list[int]]]) -> dict[str, torch.Tensor]:
        width = max(len(ids) for ids, _ in batch)
        return {
            "input_ids": torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in batch]),
            "labels": torch.tensor([lab + [IGNORE] * (width - len(lab)) for _, lab in batch]),
            "attention_mask": torch.tensor(
                [[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in batch]
            ),
        }

    watcher = _watch(train, out, suite, log)
    restarted = False
    codes: list[int | None] = []

    class Restart(TrainerCallback):
        def on_step_end(self, *a: object, **k: object) -> None:
            nonlocal watcher, restarted
            state = out / "watch.json"
            if not restarted and state.is_file() and json.loads(state.read_text())["order"]:
                watcher.send_signal(signal.SIGTERM)  # a restart mid-way
                codes.append(watcher.wait())
                watcher = _watch(train, out, suite, log)
                restarted = True

    started = time.monotonic()
    trainer = Trainer(
        model=model,
        args=TrainingArguments(
            output_dir=str(train),
            max_steps=args.steps,
            save_steps=args.save_steps,
            per_device_train_batch_size=recipe.batch_size,
            learning_rate=recipe.lr,
            report_to=[],
            use_cpu=True,
            disable_tqdm=True,
            logging_steps=args.save_steps,
            seed=recipe.seed,
        ),
        train_dataset=rows,
        data_collator=collate,
        callbacks=[Restart()],
    )
    trainer.train()
    trainer.save_state()  # the trainer's final state: the watch ends after the last save
    trained = time.monotonic() - started
    codes.append(watcher.wait())
    total = time.monotonic() - started
    state = json.loads((out / "watch.json").read_text())
    logs = {
        d.name: len(list((d / "logs").glob("*.eval"))) for d in sorted((out / "steps").iterdir())
    }
    print(f"training {trained:.0f} s, training + watch {total:.0f} s, watch exit codes {codes}")
    print(f"evaluated in order {state['order']}; logs per step {logs}")
    times = [
        line for line in log.read_text().splitlines() if "evaluating" in line or "watch" in line
    ]
    print("\n".join(times))
    once = all(n == 1 for n in logs.values()) and len(state["order"]) == len(set(state["order"]))
    print(f"each checkpoint evaluated once: {once}")


if __name__ == "__main__":
    os.environ.setdefault("INSPECT_DISPLAY", "none")
    main()
