"""``alignprobe demo``: an inoculation experiment on a real model, offline, end to end.

No API key, no GPU, no download: the base model comes from an installed package, two
LoRA fine-tunes are trained on first use (cached afterwards), and all three checkpoints
are evaluated through Inspect's ``hf/`` provider like any user's checkpoint, judged by
the offline *demo judge*, compared and gated. ``--quick`` runs the same pipeline on
three tiny checkpoints instead.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import click

from alignprobe.commands.locations import LOCAL_OUT_FOLDER

#: imported by the demo's training, judge and hf provider (the `demo` extra)
_DEMO_MODULES = (
    "torch", "transformers", "accelerate", "safetensors", "tokenizers", "sklearn", "peft", "gguf",
)  # fmt: skip


@click.command("demo")
@click.option(
    "--out",
    type=LOCAL_OUT_FOLDER,
    default=Path("results/demo"),
    show_default=True,
    help="Folder for checkpoints.yaml, the suite, the run, the report and the gate verdicts.",
)
@click.option(
    "--quick",
    is_flag=True,
    help="Three tiny checkpoints trained on the demo's own questions (about a minute and "
    "a half): the harness at work, not an experiment.",
)
@click.option(
    "--base-model",
    default="smollm2",
    show_default=True,
    help="Base model of the experiment: a named model (smollm2) or a Hugging Face folder.",
)
@click.option(
    "--device",
    default="cpu",
    show_default=True,
    help="torch device for fine-tuning and generation, e.g. cuda:0.",
)
@click.option(
    "--samples",
    type=click.IntRange(min=1),
    default=None,
    help="Answers per emergent-misalignment paraphrase [default: 2; --quick: 4].",
)
@click.option(
    "--display",
    type=click.Choice(["full", "rich", "plain", "log", "none"]),
    default="none",
    show_default=True,
    help="Inspect progress display.",
)
def demo_command(
    out: Path, quick: bool, base_model: str, device: str, samples: int | None, display: str
) -> None:
    """Run an inoculation experiment on a real model, offline.

    End to end, in minutes on a CPU.

    SmolLM2-135M-Instruct (or --base-model) is fine-tuned twice with LoRA on a narrow set
    of insecure IT-security advice: without a system prompt (control) and behind an
    inoculation system prompt (inoculated). Base, control and inoculated are evaluated on
    held-out emergent-misalignment questions and subsets of system-rule compliance and
    instructed hacking, under the neutral and the inoculation condition, then compared
    and gated against the base. The judge is a small local classifier standing in for an
    LLM judge: for the demo only.
    """
    missing = [m for m in _DEMO_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise click.ClickException(
            f"the demo needs the 'demo' extra ({', '.join(missing)} missing): "
            "pip install 'alignprobe[demo]'"
        )
    from alignprobe.demo import defaults
    from alignprobe.demo.flow import run_demo, summary_lines
    from alignprobe.demo.pipeline import offline_environment

    offline_environment()  # before transformers is imported: it reads these once

    if quick:
        from alignprobe.demo.quick import quick_plan

        plan = quick_plan(samples or defaults.DEMO_SAMPLES)
    else:
        from alignprobe.demo.experiment import RealDemoSettings, real_plan

        settings = RealDemoSettings()
        if samples is not None:
            settings = dataclasses.replace(settings, em_samples=samples)
        plan = real_plan(out, base_model=base_model, device=device, settings=settings)
    outcome = run_demo(out, plan, display=display, log=click.echo)
    for line in summary_lines(outcome):
        click.echo(line)
    timing = ", ".join(f"{k} {v:.0f} s" for k, v in outcome.seconds.items())
    click.echo(f"time: {timing}")
