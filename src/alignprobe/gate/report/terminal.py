"""A plain-text table for the terminal / CI log."""

from __future__ import annotations

from alignprobe.gate.report.cells import (
    CHANGE_NOTE,
    HEADERS,
    STATUS_LABEL,
    method_text,
    noted_checks,
    row,
    rows_without_value,
    why,
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
    data = rows_without_value(verdict)
    if data:
        lines.append("")
        lines.extend(f"rows without a value in {name}: {text}" for name, text in data)
    passed, notes = noted_checks(verdict)
    if notes or passed:
        lines.append("")
        # a pass says how thin its data were: what it would have caught
        lines.extend(f"PASS {c.name}: MDE: {c.mde_note}" for c in passed)
        lines.extend(f"{STATUS_LABEL[c.status]} {c.name}: {why(c)}" for c in notes)
    lines += ["", f"{STATUS_LABEL[verdict.status]} (exit {verdict.exit_code}): {verdict.summary}"]
    return "\n".join(lines)
