"""Markdown summary, appended to ``$GITHUB_STEP_SUMMARY`` in GitHub Actions."""

from __future__ import annotations

import os
from pathlib import Path

from alignprobe.gate.report.cells import (
    CHANGE_NOTE,
    HEADERS,
    STATUS_LABEL,
    method_text,
    notes_under_table,
    row,
)
from alignprobe.gate.types import CheckStatus
from alignprobe.gate.verdict import Verdict

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
_ICON = {
    CheckStatus.PASS: "✅",
    CheckStatus.FAIL: "❌",
    CheckStatus.CANNOT_DECIDE: "⚠️",
    CheckStatus.CONTINUE: "🔁",
    CheckStatus.SKIPPED: "⏭️",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_summary(verdict: Verdict) -> str:
    lines = [
        f"## {_ICON[verdict.status]} alignprobe gate: {STATUS_LABEL[verdict.status]}",
        "",
        f"**{_cell(verdict.summary)}** (exit {verdict.exit_code}). Baseline "
        f"`{verdict.baseline.checkpoint}` vs candidate `{verdict.candidate.checkpoint}`; "
        f"{method_text(verdict)}.",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    for check in verdict.checks:
        cells = list(row(check))
        cells[0] = f"{_ICON[check.status]} {cells[0]}"
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines += ["", f"_{CHANGE_NOTE}._"]
    lines += notes_under_table(
        verdict,
        "- rows without a value in **{name}**: {text}",
        "- **{name}** ({label}): {text}",
        _cell,
    )
    return "\n".join(lines) + "\n"


def append_step_summary(verdict: Verdict) -> Path | None:
    """Append to the file GitHub Actions names in ``$GITHUB_STEP_SUMMARY`` (if set)."""
    target = os.environ.get(STEP_SUMMARY_ENV)
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(markdown_summary(verdict) + "\n")
    return path
