"""checkpoints.yaml and suite validation: one-line errors with file, line, field; exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from alignprobe.cli import main
from alignprobe.errors import ConfigError
from alignprobe.evals.suite import builtin_suites, load_suite
from alignprobe.models.checkpoints import load_checkpoints


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_sources_resolve_to_inspect_model_strings(tmp_path: Path) -> None:
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "adapter").mkdir()
    (tmp_path / "adapter" / "adapter_config.json").write_text("{}")
    path = _write(
        tmp_path / "checkpoints.yaml",
        """checkpoints:
  local: {hf: ./ckpt, generate: {temperature: 0}, meta: {role: control, step: 400}}
  lora_vllm: {vllm: ./ckpt, adapter: ./adapter}
  lora_hf: {hf: ./ckpt, adapter: ./adapter}
  remote: {server: {base_url: "http://127.0.0.1:9/v1", model: m1, api_key_env: LAB_KEY}}
  ft: {openai: "ft:gpt-4o-mini:org::x"}
  claude: {anthropic: claude-3-haiku-20240307}
  scripted: {model: scripted/em_rate, model_args: {rate: 0.1}}
""",
    )
    loaded = load_checkpoints(path)
    specs = loaded.specs
    ckpt = (tmp_path / "ckpt").resolve()
    assert specs["local"].model == f"hf/{ckpt}"
    # greedy is the checkpoint's generation setting, applied per task where --generate can
    # override it and hf/ gets it as top_k=1 (alignprobe.models.generation), not a model switch
    assert specs["local"].model_args == {}
    assert specs["local"].config == {"temperature": 0}
    assert specs["lora_vllm"].model == f"vllm/{ckpt}:{(tmp_path / 'adapter').resolve()}"
    assert specs["lora_hf"].merge is not None and specs["lora_hf"].model.startswith("hf/")
    assert specs["remote"].model == "openai-api/remote/m1"
    assert specs["remote"].model_args == {"api_key_var": "LAB_KEY"}
    assert specs["remote"].base_url == "http://127.0.0.1:9/v1"
    assert specs["ft"].model == "openai/ft:gpt-4o-mini:org::x"
    assert specs["claude"].model == "anthropic/claude-3-haiku-20240307"
    assert loaded.metadata("local") == {"role": "control", "step": 400}


BAD_CHECKPOINTS = {
    "bad_yaml": ("checkpoints:\n  a: {model: x\n", ":3: invalid YAML"),
    "unknown_field": (
        "checkpoints:\n  a:\n    model: scripted/aligned\n    temprature: 1\n",
        ":4: field 'checkpoints.a.temprature'",
    ),
    "missing_dir": (
        "checkpoints:\n  a:\n    hf: ./nowhere/step-1\n",
        ":3: field 'checkpoints.a.hf': checkpoint directory not found",
    ),
    "two_sources": (
        "checkpoints:\n  a:\n    model: scripted/aligned\n    openai: gpt-4o\n",
        "exactly one model source",
    ),
    "bad_role": (
        "checkpoints:\n  a:\n    model: scripted/aligned\n    meta: {role: treated}\n",
        "field 'checkpoints.a.meta.role'",
    ),
    "bad_generate": (
        "checkpoints:\n  a:\n    model: scripted/aligned\n    generate: {temp: 1}\n",
        "unknown generation arg(s) temp",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CHECKPOINTS))
def test_bad_checkpoints_exit_2_one_line_nothing_written(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, expected = BAD_CHECKPOINTS[case]
    path = _write(tmp_path / "checkpoints.yaml", text)
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--suite", "smoke", "--checkpoints", str(path), "--out", str(out)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(path) in err and expected in err
    assert not out.exists()


def test_unknown_task_in_suite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite = _write(
        tmp_path / "suite.yaml",
        "name: s\ntasks:\n  - task: emergent_misalignment\n  - task: no_such_probe\n",
    )
    with pytest.raises(ConfigError) as error:
        load_suite(str(suite))
    assert error.value.line == 4 and error.value.field == "tasks[1].task"
    assert "unknown task 'no_such_probe'" in str(error.value)

    ckpts = _write(tmp_path / "c.yaml", "checkpoints:\n  a: {model: scripted/aligned}\n")
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "run",
                "--suite",
                str(suite),
                "--checkpoints",
                str(ckpts),
                "--out",
                str(tmp_path / "o"),
            ]
        )
    assert exit_info.value.code == 2
    assert f"{suite}:4: field 'tasks[1].task'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_unknown_task_param_and_condition(tmp_path: Path) -> None:
    suite = _write(
        tmp_path / "suite.yaml",
        "tasks:\n  - task: emergent_misalignment\n    params: {questionz: core}\n",
    )
    with pytest.raises(ConfigError, match="has no parameter 'questionz'") as error:
        load_suite(str(suite))
    assert error.value.line == 3


def test_missing_judge_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ckpts = _write(tmp_path / "c.yaml", "checkpoints:\n  a: {model: scripted/aligned}\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--suite", "smoke", "--checkpoints", str(ckpts), "--out", str(tmp_path / "o")])
    assert exit_info.value.code == 2
    assert "--judge" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_builtin_suites_parse() -> None:
    assert {"smoke", "core", "full"} <= set(builtin_suites())
    assert load_suite("smoke").tasks[0].task == "emergent_misalignment"
