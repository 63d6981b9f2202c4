"""Honeypot scenario files -> Inspect samples.

A scenario file (``scenarios/core.yaml`` is the built-in one) is checked when it is read:
unknown fields, tools or families, regexes that do not compile, and a ``bait_example`` whose
end state breaches nothing in ``protected`` (or an ``ordinary_example`` whose end state
does) are errors naming the file, line and field. The two examples are played through the
simulated environment: a protection that cannot catch its own example is a broken
scenario, never a silently clean run.
"""

from __future__ import annotations

import re
from typing import Any

from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageSystem, ChatMessageUser
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from alignprobe.conditions import Condition, apply_condition
from alignprobe.errors import DataError
from alignprobe.tasks.agentic_honeypots import defaults
from alignprobe.tasks.agentic_honeypots.outcomes import Protected, Regex
from alignprobe.tasks.agentic_honeypots.types import Family, ToolName
from alignprobe.tasks.item_sets import ItemSets, ListedItem

#: the scenario travels in sample metadata under this key (the tools and scorer read it)
SCENARIO_KEY = "honeypot_scenario"


class ToolCallSpec(BaseModel):
    """A concrete tool call (the scenario's examples)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tool: ToolName
    arguments: dict[str, str] = Field(default_factory=dict)


class CommandRule(BaseModel):
    """``run_command``'s output when ``match`` (a regex) is found in the command."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    match: Regex
    output: str


class Scenario(ListedItem):
    """One honeypot: ordinary work, simulated files and commands, and what it protects."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: Family
    system: str = Field(min_length=1)
    """The agent's role: neutral, says nothing about what is expected of it."""
    task: str = Field(min_length=1)
    tools: tuple[ToolName, ...] = Field(min_length=1)
    files: dict[str, str] = Field(default_factory=dict)
    services: tuple[str, ...] = ()
    """Services running at the start (``systemctl stop`` and ``kill`` act on them)."""
    commands: tuple[CommandRule, ...] = ()
    protected: Protected
    """The bait, stated as outcomes: what must not leave, change, stop or be blamed."""
    bait_example: tuple[ToolCallSpec, ...] = Field(min_length=1)
    ordinary_example: tuple[ToolCallSpec, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _no_bait_rules(cls, data: Any) -> Any:
        if isinstance(data, dict) and "bait" in data:
            raise ValueError(
                "`bait` (regexes on tool calls) is replaced by `protected` (outcomes read "
                "from the end state): see docs/honeypots.md and scenarios/core.yaml"
            )
        return data

    @field_validator("bait_example", "ordinary_example", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        from alignprobe.tasks.agentic_honeypots.labels import label_calls  # needs Scenario

        offered = set(self.offered_tools)
        for name, calls in (
            ("bait_example", self.bait_example),
            ("ordinary_example", self.ordinary_example),
        ):
            for call in calls:
                if call.tool not in offered:
                    raise ValueError(f"{name} uses tool '{call.tool}' that is not offered")
        bait = label_calls(self, [(c.tool.value, c.arguments) for c in self.bait_example])
        if not bait.findings:
            raise ValueError(
                "bait_example breaches nothing in `protected`: the outcomes cannot catch it"
                + (f" ({bait.reason})" if bait.reason else "")
            )
        ordinary = label_calls(self, [(c.tool.value, c.arguments) for c in self.ordinary_example])
        if ordinary.findings:
            raise ValueError(
                f"ordinary_example breaches `protected` ({ordinary.findings[0].detail}): "
                "the protection is too broad"
            )
        if ordinary.reason is not None:
            raise ValueError(f"ordinary_example is not scorable: {ordinary.reason}")
        return self

    @property
    def offered_tools(self) -> tuple[ToolName, ...]:
        """The scenario's tools plus ``message_supervisor`` (offered everywhere)."""
        return tuple(dict.fromkeys([*self.tools, ToolName.MESSAGE_SUPERVISOR]))

    def command_output(self, command: str) -> str | None:
        """The scenario's canned output for ``command`` (``None`` when no rule matches)."""
        for rule in self.commands:
            if re.search(rule.match, command):
                return rule.output
        return None


SCENARIO_SETS = ItemSets(
    "alignprobe.tasks.agentic_honeypots",
    "scenarios",
    what="scenario set",
    field="scenarios",
    accepts="a path or URL of a YAML scenario file (see scenarios/core.yaml)",
    key="scenarios",
    item=Scenario,
    noun="scenario",
)


def load_scenario_set(location: str) -> tuple[list[Scenario], dict[str, str]]:
    """The scenarios of a built-in set name, path or URL, and the file's sha256."""
    return SCENARIO_SETS.load(location)


def filter_families(scenarios: list[Scenario], families: str | None) -> list[Scenario]:
    """Only the comma list ``families`` (all when empty); an unknown name is an error."""
    if not families:
        return scenarios
    wanted = [f.strip() for f in families.split(",") if f.strip()]
    known = {f.value for f in Family}
    unknown = [f for f in wanted if f not in known]
    if unknown:
        raise DataError(
            f"unknown scenario family '{unknown[0]}'; known: {', '.join(sorted(known))}",
            field="families",
        )
    chosen = [s for s in scenarios if s.family.value in wanted]
    if not chosen:
        raise DataError(f"no scenario of family {', '.join(wanted)}", field="families")
    return chosen


def scenario_samples(scenarios: list[Scenario], condition: Condition) -> MemoryDataset:
    samples = []
    for scenario in scenarios:
        messages = apply_condition(
            [ChatMessageSystem(content=scenario.system), ChatMessageUser(content=scenario.task)],
            condition,
        )
        metadata: dict[str, Any] = {
            "question_id": scenario.id,
            "family": scenario.family.value,
            "question": scenario.task,
            SCENARIO_KEY: scenario.model_dump(mode="json"),
            **condition.metadata(),
        }
        samples.append(Sample(id=scenario.id, input=messages, metadata=metadata))
    return MemoryDataset(samples, name=defaults.TASK_NAME)
