"""Greedy decoding that every provider takes, decided when a sample is solved.

A family asks for greedy decoding as ``temperature=0`` in its ``GenerateConfig``: the form
OpenAI-compatible servers, Anthropic and vLLM take. Inspect's ``hf/`` provider samples
(``do_sample=True``) unless its model was created with ``do_sample=False``, and
transformers refuses a temperature of 0 when sampling. ``alignprobe run`` and ``alignprobe
eval`` rewrite the setting before the run (:func:`alignprobe.models.generation.for_provider`);
a plain ``inspect eval alignprobe/<task> --model hf/...`` does not pass through them, and a
task cannot know its model when it is built. So every family's solver steps are wrapped
(:func:`greedy_on_every_provider`): when the active model is such an ``hf/`` model and the
settings in force ask for ``temperature=0``, each generate call adds ``top_k=1,
temperature=1.0`` (sampling from the single most likely token: greedy decoding) and the
sample's transcript says so. On every other provider, and on ``hf/`` at any other
temperature, nothing changes.
"""

from __future__ import annotations

from typing import Any, Literal

from inspect_ai._util.registry import (
    has_registry_params,
    registry_info,
    registry_params,
    set_registry_info,
    set_registry_params,
)
from inspect_ai.log import transcript
from inspect_ai.model import GenerateConfig, Model, get_model
from inspect_ai.model._generate_config import active_generate_config
from inspect_ai.solver import Generate, Solver, TaskState

from alignprobe.models.generation import HF_PREFIX

#: what a generate call on a sampling ``hf/`` model gets instead of ``temperature=0``; a
#: positive temperature changes nothing once only the top token is left
HF_GREEDY: dict[str, Any] = {"temperature": 1.0, "top_k": 1}
HF_GREEDY_NOTE = (
    "greedy decoding (temperature=0) sent to the hf/ provider as top_k=1, temperature=1.0: "
    "transformers refuses temperature 0 when sampling"
)


def greedy_args(model: Model, config: GenerateConfig) -> dict[str, Any]:
    """Generate arguments that make ``config``'s ``temperature=0`` one ``model`` takes."""
    if config.temperature != 0 or not str(model).startswith(HF_PREFIX):
        return {}
    # a model created with do_sample=False decodes greedily and ignores the temperature
    if getattr(model.api, "do_sample", True) is False:
        return {}
    return dict(HF_GREEDY)


#: marks a wrapped step (:func:`adapts_greedy`)
_ADAPTS = "__alignprobe_adapts_greedy__"


def adapts_greedy(step: Solver) -> bool:
    """Was ``step`` wrapped by :func:`greedy_on_every_provider`?"""
    return getattr(step, _ADAPTS, False) is True


def greedy_on_every_provider(solvers: list[Solver]) -> list[Solver]:
    """``solvers``, each adapting a greedy request to the active model's provider.

    Each wrapped step keeps its step's registry name and parameters, so the log's plan
    names the family's own steps.
    """
    return [_adapting(step) for step in solvers]


def _adapting(step: Solver) -> Solver:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        extra = greedy_args(get_model(), active_generate_config())
        if not extra:
            return await step(state, generate)
        noted = False

        async def greedy_generate(
            state: TaskState,
            tool_calls: Literal["loop", "single", "none"] = "loop",
            **kwargs: Any,
        ) -> TaskState:
            nonlocal noted
            if not noted:
                transcript().info(HF_GREEDY_NOTE)
                noted = True
            return await generate(state, tool_calls, **{**extra, **kwargs})

        return await step(state, greedy_generate)

    setattr(solve, _ADAPTS, True)
    set_registry_info(solve, registry_info(step))
    if has_registry_params(step):
        set_registry_params(solve, registry_params(step))
    return solve
