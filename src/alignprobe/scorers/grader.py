"""The judge is the ``grader`` model role: required, never the model under test."""

from __future__ import annotations

from typing import Any, Protocol

from inspect_ai.model import GenerateConfig, Model, get_model
from inspect_ai.solver import Generate, Solver, TaskState, solver
from pydantic import BaseModel, ConfigDict

from alignprobe.errors import JudgeMissingError
from alignprobe.models.generation import for_provider

GRADER_ROLE = "grader"

_MISSING = (
    "this task is judged and needs a judge model: pass "
    "--model-role grader=<provider/model> (e.g. grader=openai/gpt-4o-2024-08-06); "
    "alignprobe never judges with the model under test"
)


def require_grader() -> Model:
    """The model bound to the ``grader`` role, or a clear error."""
    try:
        return get_model(role=GRADER_ROLE, required=True)
    except Exception as exc:  # Inspect raises PrerequisiteError
        raise JudgeMissingError(_MISSING, field="model_roles.grader") from exc


@solver
def check_grader() -> Solver:
    """First step of every judged task: fail before the model under test runs."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        require_grader()
        return state

    return solve


class VersionedPrompt(Protocol):
    """A judge prompt's identity (``JudgePrompt``, or one named in an imported table)."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def hash(self) -> str: ...


class JudgeIdentity(BaseModel):
    """Who judged, with which prompt: compared across checkpoints before any comparison."""

    model_config = ConfigDict(frozen=True)

    model: str
    prompt_name: str
    prompt_version: int
    prompt_hash: str
    method: str
    batch: bool = False
    """Sent through the provider's batch API (``--judge-batch``). Recorded, not part of
    :attr:`key`: the same judge answers the same prompt either way."""

    @classmethod
    def of(cls, model: str | Model, prompt: VersionedPrompt, method: str) -> JudgeIdentity:
        """The identity of ``model`` judging with ``prompt`` by ``method`` (a ``Model``
        also says whether its calls go through a batch API)."""
        batch = bool(model.config.batch) if isinstance(model, Model) else False
        return cls(
            model=str(model),
            prompt_name=prompt.name,
            prompt_version=prompt.version,
            prompt_hash=prompt.hash,
            method=method,
            batch=batch,
        )

    @property
    def key(self) -> str:
        return f"{self.model}|{self.prompt_name}@v{self.prompt_version}#{self.prompt_hash}|{self.method}"

    def metadata(self) -> dict[str, Any]:
        # `batch` only when on: records of judges called one by one stay as they were
        return self.model_dump(exclude={"batch"} if not self.batch else set())


def greedy_config(judge: Model, **fields: Any) -> GenerateConfig:
    """A judge call's settings: greedy (``temperature=0``) plus ``fields``, in the form the
    judge's provider takes (a local ``hf/`` judge gets ``top_k=1``: transformers rejects a
    temperature of 0)."""
    config, _ = for_provider(str(judge), GenerateConfig(temperature=0, **fields))
    return config
