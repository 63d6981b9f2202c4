"""Per-million-token prices the user keeps (``--prices FILE``), and a plan's expected cost.

alignprobe ships no price list (prices change); the file maps model strings, exactly as
``--judge`` or ``checkpoints.yaml`` name them, to prices in any one currency::

    openai/gpt-4o-2024-08-06: {input: 2.50, output: 10.00, batch_input: 1.25, batch_output: 5.00}
    anthropic/claude-sonnet-4-5: {input: 3.00, output: 15.00}

A model the plan uses but the file does not price is listed as unpriced (local and
self-served checkpoints usually are), never counted as free without saying so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, RootModel

from alignprobe.errors import ConfigError
from alignprobe.fileio import load_yaml, validate
from alignprobe.run.plan import RunPlan

PER = 1_000_000


class Price(BaseModel):
    """Price per million tokens; ``batch_*`` for calls sent through a batch API."""

    model_config = ConfigDict(extra="forbid")

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    batch_input: float | None = Field(default=None, ge=0)
    batch_output: float | None = Field(default=None, ge=0)


class PriceFile(RootModel[dict[str, Price]]):
    pass


def load_prices(path: Path) -> dict[str, Price]:
    """Read and check a prices YAML (a typo in a field is an error naming its line)."""
    data = load_yaml(path)
    if not isinstance(data, dict) or not data:
        raise ConfigError(
            "a prices file maps model names to {input: .., output: ..} per million tokens",
            source=path,
        )
    return validate(PriceFile, data, source=path, error=ConfigError).root


@dataclass
class Cost:
    """A plan's cost (answers counted at ``max_tokens``), per priced model: ``total`` with
    every conditional call made, ``certain`` of the calls every sample makes."""

    total: float = 0.0
    certain: float = 0.0
    by_model: dict[str, float] = field(default_factory=dict)
    unpriced: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def plan_cost(plan: RunPlan, prices: dict[str, Price]) -> Cost:
    cost = Cost()
    for model, use in plan.models.items():
        price = prices.get(model)
        if price is None:
            cost.unpriced.append(model)
            continue
        rate_in, rate_out = price.input, price.output
        if use.batch:
            if price.batch_input is None or price.batch_output is None:
                cost.notes.append(f"{model}: no batch price given, priced at the standard rate")
            else:
                rate_in, rate_out = price.batch_input, price.batch_output
        value = (use.input_tokens * rate_in + use.output_tokens * rate_out) / PER
        conditional = (
            use.conditional_input_tokens * rate_in + use.conditional_output_tokens * rate_out
        ) / PER
        cost.by_model[model] = value
        cost.total += value
        cost.certain += value - conditional
    return cost
