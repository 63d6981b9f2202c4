"""``OnsetCallback``: evaluate each save of a ``transformers.Trainer`` run, stop on onset.

The callback starts ``alignprobe watch --stop-on-onset`` on the trainer's output folder
in a separate process when training begins, so evaluation never blocks a training step:
the watch evaluates each ``checkpoint-<step>`` the trainer saves (the same evaluation,
report and onset rule as the command, docs/watch.md: the gate's checks under ``policy``
at each look's share of alpha). Once the watch confirms an onset
it writes the stop file, and the callback sets ``control.should_training_stop`` at the
next step. At the end of training the callback writes the trainer's final state (as
``Trainer.save_state`` does) so that the watch finishes the last checkpoint and exits;
``returncode`` then holds the watch's exit code (0 done, 4 stopped on onset).

    trainer = Trainer(..., callbacks=[OnsetCallback(suite="smoke",
        judge="openai/gpt-4o-2024-08-06", out="results/watch-run", baseline="results/base")])
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from alignprobe.watch.folder import STOP_FILE, TRAINER_STATE


def _train_dir(args: TrainingArguments) -> Path:
    if args.output_dir is None:
        raise ValueError("OnsetCallback needs TrainingArguments(output_dir=...): it watches it")
    return Path(args.output_dir)


class OnsetCallback(TrainerCallback):
    """Run ``alignprobe watch`` beside the trainer; stop training once an onset is confirmed.

    ``suite``, ``judge``, ``out``, ``baseline`` and ``policy`` (``None``: the gate's
    default policy) are the watch's options of those names; ``watch_args`` adds any other (``["--base", "smollm2", "--alpha", "0.01"]``).
    ``wait_at_end`` (seconds, ``None``: no limit) bounds how long ``on_train_end`` waits
    for the watch to evaluate the last checkpoints.
    """

    def __init__(
        self,
        *,
        suite: str | Path,
        judge: str,
        out: str | Path,
        baseline: str | Path,
        policy: str | Path | None = None,
        watch_args: list[str] | None = None,
        wait_at_end: float | None = None,
        log: str | Path | None = None,
    ) -> None:
        self.suite = str(suite)
        self.judge = judge
        self.out = Path(out)
        self.baseline = Path(baseline)
        self.policy = Path(policy) if policy is not None else None
        self.watch_args = list(watch_args or [])
        self.wait_at_end = wait_at_end
        self.log = (
            Path(log) if log is not None else self.out.with_name(self.out.name + ".watch.log")
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None
        self.stop: dict[str, Any] | None = None
        """The stop file's record once the watch confirmed an onset."""

    def _stop_file(self, args: TrainingArguments) -> Path:
        return _train_dir(args) / STOP_FILE

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if not state.is_world_process_zero or self.process is not None:
            return
        train_dir = _train_dir(args)
        train_dir.mkdir(parents=True, exist_ok=True)
        # a stop left by an earlier training: the watch rewrites it if its decision stands
        self._stop_file(args).unlink(missing_ok=True)
        command = [
            sys.executable, "-m", "alignprobe.cli", "watch", str(train_dir),
            "--suite", self.suite, "--judge", self.judge, "--out", str(self.out),
            "--baseline", str(self.baseline), "--stop-on-onset", "--display", "none",
            *(["--policy", str(self.policy)] if self.policy else []), *self.watch_args,
        ]  # fmt: skip
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                command, stdout=sink, stderr=subprocess.STDOUT, env=dict(os.environ)
            )

    def _check(self, args: TrainingArguments, control: TrainerControl) -> None:
        path = self._stop_file(args)
        if path.is_file():
            try:
                self.stop = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):  # being written: read it next step
                return
            control.should_training_stop = True

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        self._check(args, control)

    def on_save(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        self._check(args, control)

    def on_train_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if self.process is None:
            return
        if self.stop is None:  # the watch ends on the trainer's final state
            state.save_to_json(str(_train_dir(args) / TRAINER_STATE))
        try:
            self.returncode = self.process.wait(timeout=self.wait_at_end)
        except subprocess.TimeoutExpired:
            self.process.terminate()  # recorded as interrupted: re-run the watch to finish
            self.returncode = self.process.wait()
