"""Render a :class:`~alignprobe.report.compare.Comparison` as ``report.md`` and one self-contained
``report.html`` (jinja2 templates, matplotlib plots embedded as base64 PNG, no scripts,
no external resources)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import jinja2

from alignprobe.report.compare import Comparison, headline_measures
from alignprobe.report.overview import build_overview
from alignprobe.report.plotting import plt, png
from alignprobe.report.stats import PAIRED_CI_SHORT, PAIRED_METHOD
from alignprobe.report.templating import template_environment
from alignprobe.report.trajectory_section import trajectory_plot
from alignprobe.tasks.instructed_hacking.report_section import render_section

REPORT_MD = "report.md"
REPORT_HTML = "report.html"


def fmt_p(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):.2g}" if float(value) >= 1e-4 else "<1e-4"


def _forest(comp: Comparison, task: str) -> str | None:
    """Headline measure per condition x checkpoint with its CI."""
    heads = headline_measures(comp.measures.get(task, []))
    if not heads:
        return None
    measure = heads[0].name
    rows = [r for r in comp.rates if r["task"] == task and r["measure"] == measure]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(rows) + 1.2))
    colours = plt.get_cmap("tab10")
    for y, row in enumerate(rows):
        est = row["estimate"]
        colour = colours(comp.checkpoints.index(row["checkpoint"]) % 10)
        # stats intervals always contain their estimate; this guard stays so that a table
        # from elsewhere can never draw a negative bar (which crashes matplotlib)
        low = max(0.0, est.value - est.low) if math.isfinite(est.low) else 0.0
        high = max(0.0, est.high - est.value) if math.isfinite(est.high) else 0.0
        ax.errorbar(est.value, y, xerr=[[low], [high]], fmt="o", color=colour, capsize=3)
    if rows[0]["kind"] == "rate":
        # a rate axis starts at 0 so equal rates do not look like a zoomed-in difference
        highs = [r["estimate"].high for r in rows if math.isfinite(r["estimate"].high)]
        ax.set_xlim(0, min(1.0, max(highs, default=0.0) + 0.05))
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{r['condition']} · {r['checkpoint']}" for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel(f"{measure} ({rows[0]['direction']}), 95% CI clustered by question")
    ax.set_title(task)
    ax.grid(axis="x", alpha=0.3)
    return png(fig)


def _per_question_plot(block: dict[str, Any]) -> str:
    questions = [r["question_id"] for r in block["rows"]]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(questions) + 1.2))
    colours = plt.get_cmap("tab10")
    for index, checkpoint in enumerate(block["checkpoints"]):
        xs, ys = [], []
        for y, row in enumerate(block["rows"]):
            cell = row["cells"].get(checkpoint)
            if cell is not None and math.isfinite(cell["mean"]):
                xs.append(cell["mean"])
                ys.append(y)
        ax.scatter(xs, ys, label=checkpoint, color=colours(index % 10), s=22)
    ax.set_yticks(range(len(questions)))
    ax.set_yticklabels(questions, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(block["measure"])
    ax.set_title(f"{block['task']} · {block['condition']}: per question")
    ax.legend(fontsize=7, loc="best")
    ax.grid(axis="x", alpha=0.3)
    return png(fig)


def _fold_heading(html: str) -> tuple[str, str, str]:
    """(id, title, body) of a section that opens on its own ``<h2>``, so the report can
    fold it under that title; a section without one keeps all of its HTML as the body."""
    match = re.match(r'\s*<h2(?: id="([^"]*)")?>(.*?)</h2>\s*', html, flags=re.S)
    if match is None:
        return "", "", html
    return match.group(1) or "", match.group(2), html[match.end() :]


def _environment() -> jinja2.Environment:
    return template_environment(fmt_p=fmt_p)


def render(comp: Comparison, out_dir: Path, gold: Any = None) -> list[Path]:
    """Write ``report.md`` and ``report.html`` into ``out_dir`` (``gold``: a
    :class:`~alignprobe.judging.gold_stats.GoldReport` adds bias-corrected rates)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tasks = list(dict.fromkeys(task for task, _ in comp.groups))
    plots = {task: _forest(comp, task) for task in tasks}
    question_plots = [
        {"block": block, "image": _per_question_plot(block)} for block in comp.per_question
    ]
    trajectory_plots = [{"trajectory": t, "image": trajectory_plot(t)} for t in comp.trajectories]
    env = _environment()
    hacking_md, hacking_html = render_section(comp.hacking)
    hacking_id, hacking_title, hacking_body = _fold_heading(hacking_html)
    context = {
        "overview": build_overview(comp),
        "hacking_md": hacking_md,
        "hacking_html": hacking_body,
        "hacking_id": hacking_id or "section",
        "hacking_title": hacking_title or "Instruction following",
        "trajectory_plots": trajectory_plots,
        "comp": comp,
        "tasks": tasks,
        "plots": plots,
        "question_plots": question_plots,
        "paired_method": PAIRED_METHOD,
        "paired_ci_short": PAIRED_CI_SHORT,
        "gold": gold,
    }
    paths = []
    for template, name in (("report.md.j2", REPORT_MD), ("report.html.j2", REPORT_HTML)):
        text = env.get_template(template).render(**context)
        path = out_dir / name
        partial = path.with_name(name + ".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
        paths.append(path)
    return paths
