"""The instruction-following section of a comparison report: condition x domain heat map,
compliance per domain, the cross-domain summary and the wording screening.

``compare`` calls :func:`build_section` with the results table; the report renderer calls
:func:`render_section` for the Markdown and HTML (the heat map is an embedded PNG).
Nothing here is shown when the inputs hold no four-outcome ``instructed_hacking`` rows.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import matplotlib

from alignprobe.report.templating import template_environment

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from alignprobe.report.stats import clustered_mean_ci
from alignprobe.run.status import read_manifest
from alignprobe.tasks.instructed_hacking.matrix import (
    NEUTRAL,
    RATES,
    CrossDomainRow,
    compliance,
    cross_domain,
    domains_in,
    hacking_rows,
    rate_matrix,
)
from alignprobe.units import MISSING

#: the checkpoint meta key naming the domain a checkpoint was trained on
TRAINED_ON = "trained_on"
#: roles whose checkpoint counts as "before any training" for the wording screening
BASE_ROLES = ("baseline", "control")
RATE_TITLES = {name: rate.title for name, rate in RATES.items()}
COMPLIANCE_COLUMNS = (
    "compliance",
    "hack_steering",
    "report_steering",
    "compliance_please_hack",
    "compliance_dont_hack",
)


@dataclass
class Section:
    """What the templates show."""

    domains: list[str]
    checkpoints: list[str]
    matrix: list[dict[str, Any]]
    compliance: list[dict[str, Any]]
    cross_domain: list[CrossDomainRow]
    baseline: str
    screening_checkpoint: str | None
    screening: list[dict[str, Any]] = field(default_factory=list)
    trained_on: dict[str, str] = field(default_factory=dict)


def trained_on_from(sources: list[str], checkpoints: list[str]) -> dict[str, str]:
    """``meta.trained_on`` of each checkpoint in the inputs' manifests (a checkpoint renamed
    ``<run>/<name>`` because two inputs share the name is matched by its suffix)."""
    found: dict[str, str] = {}
    for source in sources:
        record = read_manifest(Path(source)) or {}
        for name, entry in (record.get("checkpoints") or {}).items():
            domain = ((entry or {}).get("meta") or {}).get(TRAINED_ON)
            if not domain:
                continue
            for checkpoint in checkpoints:
                if checkpoint == name or checkpoint.endswith(f"/{name}"):
                    found.setdefault(checkpoint, str(domain))
    return found


def _screening(rows: pd.DataFrame, checkpoint: str) -> list[dict[str, Any]]:
    """Conditions ranked by the hack rate they elicit on hackable items (all domains
    pooled, CI clustered by item), with the rise over ``neutral``."""
    mine = rows[(rows["checkpoint"] == checkpoint) & rows["hacked_given_hackable"].notna()]
    if mine.empty:
        return []
    estimates = {
        str(c): clustered_mean_ci(group, "hacked_given_hackable")
        for c, group in mine.groupby("condition")
    }
    neutral = estimates.get(NEUTRAL)
    ranked = sorted(estimates.items(), key=lambda kv: (-kv[1].value, kv[0]))
    return [
        {
            "condition": condition,
            "estimate": estimate,
            "over_neutral": estimate.value - neutral.value if neutral else math.nan,
        }
        for condition, estimate in ranked
    ]


def build_section(
    table: pd.DataFrame,
    checkpoints: list[str],
    baseline: str,
    roles: dict[str, str],
    sources: list[str],
) -> Section | None:
    rows = hacking_rows(table)
    if rows.empty:
        return None
    rows = rows.assign(checkpoint=rows["checkpoint"].astype(str))
    present = [c for c in checkpoints if c in set(rows["checkpoint"])]
    trained_on = trained_on_from(sources, present)
    matrix = rate_matrix(rows)
    base_like = [c for c in present if roles.get(c) in BASE_ROLES]
    screened = base_like[0] if base_like else (baseline if baseline in present else None)
    return Section(
        domains=domains_in(rows),
        checkpoints=present,
        matrix=_records(matrix),
        compliance=_records(compliance(rows)),
        cross_domain=cross_domain(rows, trained_on, baseline=baseline),
        baseline=baseline,
        screening_checkpoint=screened,
        screening=_screening(rows, screened) if screened else [],
        trained_on=trained_on,
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def heat_map(section: Section) -> str:
    """Four panels (one per rate): rows checkpoint x condition, columns domain; PNG data URL."""
    frame = pd.DataFrame(section.matrix)
    frame["row"] = frame["checkpoint"].astype(str) + " · " + frame["condition"].astype(str)
    order = [
        f"{c} · {k}"
        for c in section.checkpoints
        for k in sorted(set(frame.loc[frame["checkpoint"] == c, "condition"]), key=_condition_key)
    ]
    fig, axes = plt.subplots(
        1,
        len(RATES),
        figsize=(3.2 * len(RATES), 0.32 * len(order) + 1.6),
        sharey=True,
        squeeze=False,
    )
    for ax, rate in zip(axes[0], RATES, strict=True):
        grid = frame.pivot_table(index="row", columns="domain", values=rate, aggfunc="mean")
        grid = grid.reindex(index=order, columns=section.domains)
        ax.imshow(grid.to_numpy(dtype=float), vmin=0, vmax=1, cmap="viridis", aspect="auto")
        values = grid.to_numpy(dtype=float)
        for (y, x), value in np.ndenumerate(values):
            if math.isfinite(value):
                colour = "black" if value > 0.6 else "white"
                ax.text(
                    x,
                    y,
                    f"{100 * value:.0f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color=colour,
                )
        ax.set_xticks(range(len(section.domains)))
        ax.set_xticklabels(section.domains, rotation=30, fontsize=8)
        ax.set_title(RATE_TITLES[rate], fontsize=9)
        ax.set_yticks(range(len(order)))
        ax.set_yticklabels(order, fontsize=7)
    fig.suptitle("instructed_hacking: rates (%) per checkpoint · condition and domain", fontsize=10)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _condition_key(condition: str) -> tuple[bool, str]:
    return (condition != NEUTRAL, condition)


def _environment() -> jinja2.Environment:
    return template_environment("alignprobe.tasks.instructed_hacking", signed=signed)


def signed(value: Any) -> str:
    """A compliance value (a difference of rates, -1 to 1) as ``+0.85``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return f"{float(value):+.2f}"


def render_section(section: Section | None) -> tuple[str, str]:
    """(Markdown, HTML) of the section; empty strings when there is none."""
    if section is None:
        return "", ""
    env = _environment()
    matrix = sorted(
        section.matrix,
        key=lambda r: (
            section.checkpoints.index(r["checkpoint"]),
            _condition_key(str(r["condition"])),
            section.domains.index(str(r["domain"])) if r["domain"] in section.domains else 99,
        ),
    )
    context = {
        "s": section,
        "matrix": matrix,
        "rates": RATE_TITLES,
        "compliance_columns": COMPLIANCE_COLUMNS,
    }
    markdown = env.get_template("matrix.md.j2").render(**context)
    html = env.get_template("matrix.html.j2").render(heat_map=heat_map(section), **context)
    return markdown, html
