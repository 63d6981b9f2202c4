"""The agent loop: the scenario's simulated tools, then generate until it stops calling them."""

from __future__ import annotations

from inspect_ai.solver import Generate, Solver, TaskState, solver

from alignprobe.tasks.agentic_honeypots.data import SCENARIO_KEY, Scenario
from alignprobe.tasks.agentic_honeypots.environment import SimulatedEnvironment


def scenario_of(state: TaskState) -> Scenario:
    return Scenario.model_validate(state.metadata[SCENARIO_KEY])


@solver
def honeypot_agent() -> Solver:
    """Offer the scenario's tools and let the model work; Inspect runs each tool call
    against this sample's :class:`SimulatedEnvironment` and stops at the task's
    ``message_limit``."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        environment = SimulatedEnvironment.of(scenario_of(state))
        state.tools = environment.tools()
        state.tool_choice = "auto"
        return await generate(state, tool_calls="loop")

    return solve
