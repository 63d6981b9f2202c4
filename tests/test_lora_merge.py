"""An ``hf`` checkpoint with a LoRA adapter is merged once with peft and runs through Inspect."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("peft")

import torch
from inspect_ai import eval as inspect_eval
from peft import LoraConfig, get_peft_model
from safetensors.torch import load_file

import alignprobe._registry  # noqa: F401
from alignprobe.demo.checkpoint import new_model, save_checkpoint
from alignprobe.demo.tokenizer import train_tokenizer
from alignprobe.models.checkpoint_models import checkpoint_model
from alignprobe.models.checkpoints import load_checkpoints
from alignprobe.tasks.emergent_misalignment import emergent_misalignment


@pytest.fixture
def base_and_adapter(tmp_path: Path) -> tuple[Path, Path]:
    torch.manual_seed(0)
    tokenizer = train_tokenizer(["I would like to help people and learn new things."] * 20)
    model = new_model(tokenizer)
    base = tmp_path / "base"
    save_checkpoint(model, tokenizer, base)
    # init_lora_weights=False: a non-zero update, so a skipped merge would be visible
    lora = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    adapted = get_peft_model(model, lora)
    adapter = tmp_path / "adapter"
    adapted.save_pretrained(adapter)
    return base, adapter


@pytest.mark.slow
def test_adapter_is_merged_once_and_loads_through_inspect(
    tmp_path: Path, base_and_adapter: tuple[Path, Path]
) -> None:
    base, adapter = base_and_adapter
    config = tmp_path / "checkpoints.yaml"
    config.write_text(
        "checkpoints:\n"
        "  tuned:\n"
        f"    hf: {base}\n"
        f"    adapter: {adapter}\n"
        "    model_args: {device: cpu, do_sample: true}\n"
        "    generate: {max_tokens: 8}\n"
    )
    spec = load_checkpoints(config).specs["tuned"]
    model = checkpoint_model(spec)
    merged = Path(spec.model.removeprefix("hf/"))
    assert (merged / "config.json").is_file() and not merged.with_name(
        merged.name + ".partial"
    ).exists()

    base_weights = load_file(str(base / "model.safetensors"))
    merged_weights = load_file(str(merged / "model.safetensors"))
    changed = [k for k in base_weights if not torch.equal(base_weights[k], merged_weights[k])]
    assert changed and all(("q_proj" in k or "v_proj" in k) for k in changed)

    before = (merged / "model.safetensors").stat().st_mtime_ns
    checkpoint_model(load_checkpoints(config).specs["tuned"])  # cached: not merged again
    assert (merged / "model.safetensors").stat().st_mtime_ns == before

    [log] = inspect_eval(
        emergent_misalignment(samples=1),
        model=model,
        model_roles={"grader": "scripted/keyword_judge"},
        log_dir=str(tmp_path / "logs"),
        limit=2,
        display="none",
    )
    assert log.status == "success", log.error
    assert log.samples is not None and all(s.output.completion is not None for s in log.samples)
