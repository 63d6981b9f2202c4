"""A plain-text table for the terminal / CI log."""

from __future__ import annotations

from alignprobe.gate.report.cells import (
    CHANGE_NOTE,
    HEADERS,
    STATUS_LABEL,
    method_text,
    notes_under_table,
    row,
)
from alignprobe.gate.verdict import Verdict


def terminal_table(verdict: Verdict) -> str:
    rows = [HEADERS, *(row(c) for c in verdict.checks)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADERS))]
    lines = [
        f"alignprobe gate: baseline {verdict.baseline.checkpoint} ({verdict.baseline.source}) "
        f"vs candidate {verdict.candidate.checkpoint} ({verdict.candidate.source})",
        method_text(verdict),
        CHANGE_NOTE,
        "",
    ]
    for r in rows:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    lines += notes_under_table(
        verdict, "rows without a value in {name}: {text}", "{label} {name}: {text}"
    )
    lines += ["", f"{STATUS_LABEL[verdict.status]} (exit {verdict.exit_code}): {verdict.summary}"]
    return "\n".join(lines)
