"""Local models: greedy settings the hf/ provider accepts, and the assistant prefill that
primes a multiple-choice letter (chat template wrapped to continue a final assistant turn)."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai import Task
from inspect_ai.model import GenerateConfig, get_model

import alignprobe._registry  # noqa: F401
from alignprobe.models.continuation import (
    MARKER,
    continuation_template,
    continues_final_message,
    hf_chat_template,
)
from alignprobe.models.generation import for_provider, resolve_generation
from alignprobe.tasks.corrigibility_mcq.answers import read_answer
from alignprobe.tasks.corrigibility_mcq.priming import Prime

pytest.importorskip("transformers")


def test_greedy_reaches_hf_as_top_k_1_and_only_hf() -> None:
    greedy = GenerateConfig(temperature=0.0, max_tokens=64)
    config, adapted = for_provider("hf//ckpt/step-1", greedy)
    assert config.temperature is None and config.top_k == 1 and config.max_tokens == 64
    assert "top_k=1" in adapted["temperature"]
    for model in ("openai/gpt-4o", "vllm//ckpt", "scripted/aligned"):
        assert for_provider(model, greedy) == (greedy, {})
    sampled = GenerateConfig(temperature=0.7)
    assert for_provider("hf//ckpt", sampled) == (sampled, {})


def test_resolve_generation_adapts_for_the_checkpoint_and_records_it() -> None:
    task = Task(dataset=None, config=GenerateConfig(temperature=0.0, max_tokens=100))
    generation = resolve_generation(task, GenerateConfig(max_retries=6), {}, {}, model="hf//x")
    assert generation.config.top_k == 1 and generation.config.temperature is None
    assert generation.manifest()["adapted"]["temperature"]
    cli = resolve_generation(task, GenerateConfig(), {}, {"temperature": 0.5}, model="hf//x")
    assert cli.config.temperature == 0.5 and cli.config.top_k is None
    assert "adapted" not in cli.manifest()
    api = resolve_generation(task, GenerateConfig(), {}, {}, model="openai/gpt-4o")
    assert api.config.temperature == 0.0 and "adapted" not in api.manifest()


def test_local_calls_wait_for_their_round_without_the_run_defaults_time_bounds() -> None:
    from alignprobe.run.defaults import LARGE_RUN_GENERATE

    task = Task(dataset=None, config=GenerateConfig(max_tokens=48))
    local = resolve_generation(task, LARGE_RUN_GENERATE, {}, {}, model="local//ckpt")
    # a call to local/ waits for its eval's whole round of batches: no server to hang
    assert local.config.attempt_timeout is None and local.config.timeout is None
    assert local.config.max_retries == LARGE_RUN_GENERATE.max_retries
    assert set(local.manifest()["adapted"]) == {"attempt_timeout", "timeout"}
    # a bound the user wrote is applied as written
    own = resolve_generation(task, LARGE_RUN_GENERATE, {"attempt_timeout": 60}, {}, "local//c")
    assert own.config.attempt_timeout == 60 and own.config.timeout is None
    assert set(own.manifest()["adapted"]) == {"timeout"}
    for model in ("hf//ckpt", "openai/gpt-4o"):
        served = resolve_generation(task, LARGE_RUN_GENERATE, {}, {}, model=model)
        assert served.config.attempt_timeout == LARGE_RUN_GENERATE.attempt_timeout
        assert served.config.timeout == LARGE_RUN_GENERATE.timeout


def _tokenizer_folder(tmp_path: Path) -> Path:
    from alignprobe.demo.tokenizer import train_tokenizer

    tokenizer = train_tokenizer(["Pick one: (A) yes (B) no. The answer is (A)."] * 20)
    tokenizer.save_pretrained(tmp_path)
    return tmp_path


def test_wrapped_template_renders_alike_and_continues_a_final_assistant_turn(
    tmp_path: Path,
) -> None:
    from transformers import AutoTokenizer

    folder = _tokenizer_folder(tmp_path)
    wrapped = hf_chat_template(folder)
    assert wrapped is not None and wrapped.startswith(MARKER)
    assert continuation_template(wrapped) == wrapped  # wrapping twice changes nothing
    tokenizer = AutoTokenizer.from_pretrained(folder)
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "A or B?"}]
    plain = tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
    assert (
        tokenizer.apply_chat_template(
            chat, chat_template=wrapped, tokenize=False, add_generation_prompt=True
        )
        == plain
    )
    primed = [*chat, {"role": "assistant", "content": "("}]
    assert (
        tokenizer.apply_chat_template(
            primed, chat_template=wrapped, tokenize=False, add_generation_prompt=True
        )
        == plain + "("
    )


def test_a_template_that_would_render_differently_is_left_alone(tmp_path: Path) -> None:
    folder = _tokenizer_folder(tmp_path)
    assert hf_chat_template(folder, given="{{ raise_exception('no') }}") is None
    assert hf_chat_template(tmp_path / "no-such-folder") is None


def test_api_and_scripted_models_are_not_primed() -> None:
    assert not continues_final_message(get_model("scripted/aligned"))
    assert Prime("auto") is Prime.AUTO
    with pytest.raises(ValueError):
        Prime("always")


def test_a_primed_answer_is_parsed_with_its_prefill() -> None:
    from inspect_ai.model import ModelOutput

    output = ModelOutput.from_content("m", "B) No, I do not consent.")
    reading = read_answer(output, ("A", "B"), prefill="(")
    assert reading.chosen == ("B",) and reading.metadata()["prefill"] == "("
    assert read_answer(output, ("A", "B")).chosen == ("B",)  # "B)" at the start reads too
