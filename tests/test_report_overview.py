"""The report opens on its answer: which checkpoint got worse or better on what, with the
interval method stated once per measure kind and the onsets per run and condition."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from alignprobe.report.compare import Comparison, Inputs, compare
from alignprobe.report.overview import build_overview
from alignprobe.report.render import _fold_heading, render
from alignprobe.tasks.emergent_misalignment.scorer import MEASURES as EM_MEASURES
from tests.gate_tables import em_rows

CONDITIONS = ("neutral", "evil_system")
#: misalignment rate per checkpoint: one worse, one the same, one better (never misaligned)
RATES = {"base": 0.05, "control-300": 0.3, "inoculated-300": 0.05, "never": 0.0}
METAS: dict[str, dict[str, Any]] = {
    "base": {"role": "baseline", "step": 0},
    "control-300": {"role": "control", "run": "r1", "step": 300},
    "inoculated-300": {"role": "inoculated", "run": "r2", "step": 300},
    "never": {},
}


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    frames = [
        em_rows(name, rate, samples=8, seed=i, condition=condition)
        for i, (name, rate) in enumerate(RATES.items())
        for condition in CONDITIONS
    ]
    roles = {name: str(meta["role"]) for name, meta in METAS.items() if "role" in meta}
    inputs = Inputs(
        pd.concat(frames, ignore_index=True),
        {"emergent_misalignment": EM_MEASURES},
        roles,
        ["synthetic"],
        metas=METAS,
    )
    return compare(inputs, baseline="base", transcripts_per_pair=0)


@pytest.fixture(scope="module")
def rendered(comparison: Comparison, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    render(comparison, out)
    return out


def test_cells_follow_the_gates_verdicts(comparison: Comparison) -> None:
    overview = build_overview(comparison)
    assert [(c.condition, c.measure) for c in overview.columns] == [
        ("neutral", "misaligned"),
        ("evil_system", "misaligned"),
    ]
    rows = {row.checkpoint: row for row in overview.rows}
    assert list(rows) == ["base", "control-300", "inoculated-300", "never"]
    assert rows["base"].tags == ["baseline"]
    for cell in rows["base"].cells:
        assert cell is not None and cell.change == "" and cell.css == ""
    verdicts = {
        (p["checkpoint"], p["condition"]): p["verdict"]
        for p in comparison.paired
        if p["measure"] == "misaligned"
    }
    for name in ("control-300", "inoculated-300", "never"):
        for column, cell in zip(overview.columns, rows[name].cells, strict=True):
            assert cell is not None
            verdict = verdicts[(name, column.condition)]
            assert cell.verdict == verdict
            # coloured exactly where the gate's test decides
            assert cell.css == (verdict if verdict in ("worse", "better") else "")
            assert re.fullmatch(r"[+-]\d+\.\d pts \[[+-]\d+\.\d, [+-]\d+\.\d\]", cell.change)
    assert {c.css for c in rows["control-300"].cells} == {"worse"}
    assert {c.css for c in rows["inoculated-300"].cells if c} == {""}
    # the findings say it in words, the worse ones first
    found = [(f.checkpoint, f.verdict, f.column.condition) for f in overview.findings]
    assert set(found[:2]) == {
        ("control-300", "worse", "neutral"),
        ("control-300", "worse", "evil_system"),
    }
    assert {f.checkpoint for f in overview.findings} == {"control-300", "never"}


def test_onsets_name_run_and_condition(comparison: Comparison) -> None:
    onsets = {(o.run, o.condition): o.onset for o in build_overview(comparison).onsets}
    assert onsets == {
        ("r1", "neutral"): "step 300",
        ("r1", "evil_system"): "step 300",
        ("r2", "neutral"): "none",
        ("r2", "evil_system"): "none",
    }


def test_interval_method_once_per_kind_with_footnotes(comparison: Comparison) -> None:
    notes = build_overview(comparison).notes
    assert [kind for kind, _ in notes.kinds] == ["rate", "score"]
    # a rate of 0 has no spread to estimate clustering from: its own footnote
    never = next(
        r for r in comparison.rates if r["checkpoint"] == "never" and r["measure"] == "misaligned"
    )
    base = next(
        r for r in comparison.rates if r["checkpoint"] == "base" and r["measure"] == "misaligned"
    )
    number = notes.footnote(never)
    assert number is not None and "no variation" in notes.footnotes[number - 1]
    assert notes.footnote(base) is None
    assert notes.footnote(never) == number  # the same method, the same footnote


def test_markdown_opens_on_the_overview(rendered: Path) -> None:
    markdown = (rendered / "report.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", markdown, flags=re.M)
    assert headings[0] == "Overview"
    overview = markdown[markdown.index("## Overview") : markdown.index(f"## {headings[1]}")]
    assert "- **control-300** is **WORSE** than base on emergent_misalignment · neutral" in overview
    row = next(line for line in overview.splitlines() if line.startswith("| control-300"))
    assert row.count("**WORSE**") == 2
    same = next(line for line in overview.splitlines() if line.startswith("| inoculated-300"))
    assert "WORSE" not in same and "BETTER" not in same
    assert "- run **r1**, condition **evil_system**" in overview
    # no per-row method text anywhere: stated once per kind, footnoted where it differs
    assert "Wilson on effective n" not in markdown
    assert "CI method" not in markdown
    assert markdown.count("Wilson score interval on the effective number") == 1
    assert re.search(r"^\[1\] rate: Wilson on \d+ answers \(rate 0%", overview, flags=re.M)
    rates = markdown[markdown.index("## Rates") :]
    assert re.search(r"\| never \| 0\.0% \| 0\.0% – \d+\.\d% \[1\] \|", rates)


def test_html_opens_on_the_overview_and_folds_the_rest(rendered: Path) -> None:
    html = (rendered / "report.html").read_text(encoding="utf-8")
    body = html[html.index("<body>") :]
    assert body.index('<section id="overview">') < body.index("<details")
    assert re.findall(r'<details open class="section" id="([^"]+)"', body)[:3] == [
        "methods",
        "rates",
        "paired",
    ]
    table = body[body.index('<table class="overview">') : body.index("</table>")]
    control = table[table.index("control-300") : table.index("inoculated-300")]
    assert control.count('class="num worse"') == 2
    inoculated = table[table.index("inoculated-300") : table.index(">never")]
    assert "worse" not in inoculated and "better" not in inoculated
    assert "Wilson on effective n" not in html and "<th>CI method</th>" not in html


def test_a_task_section_folds_under_its_own_heading() -> None:
    html = '<h2 id="instruction-matrix">Instruction following: condition × domain</h2>\n<p>x</p>'
    assert _fold_heading(html) == (
        "instruction-matrix",
        "Instruction following: condition × domain",
        "<p>x</p>",
    )
    assert _fold_heading("<p>no heading</p>") == ("", "", "<p>no heading</p>")
