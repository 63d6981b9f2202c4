"""What ``alignprobe compare`` prints: the headline table and the main differences.

The files hold everything; the terminal gets what a reader looks at first: each task and
condition's headline measure per checkpoint with its interval and counts, then the paired
differences against the baseline that the Holm-corrected test calls better or worse.
"""

from __future__ import annotations

import math
from typing import Any

from alignprobe.report.compare import Comparison
from alignprobe.report.eval_aware import eval_aware_lines
from alignprobe.units import fmt, fmt_delta


def _interval(estimate: Any, kind: str) -> str:
    if not (math.isfinite(estimate.low) and math.isfinite(estimate.high)):
        return ""
    return f" [{fmt(estimate.low, kind)}, {fmt(estimate.high, kind)}]"


def headline_lines(comp: Comparison) -> list[str]:
    """One block per (task, condition): checkpoint, headline value, interval, counts."""
    lines: list[str] = []
    width = max((len(c) for c in comp.checkpoints), default=10)
    for task, condition in comp.groups:
        rows = [
            r
            for r in comp.rates
            if r["task"] == task and r["condition"] == condition and r["headline"]
        ]
        if not rows:
            continue
        measure, direction = rows[0]["measure"], rows[0]["direction"]
        lines.append(f"{task} / {condition}: {measure} ({direction})")
        for row in rows:
            if row["measure"] != measure:
                continue
            est, kind = row["estimate"], row["kind"]
            role = comp.roles.get(row["checkpoint"])
            tag = " (baseline)" if row["checkpoint"] == comp.baseline else ""
            tag += f" [{role}]" if role else ""
            lines.append(
                f"  {row['checkpoint']:<{width}}  {fmt(est.value, kind):>7}"
                f"{_interval(est, kind)}  {est.counts} over {est.clusters} questions{tag}"
            )
    return lines


def difference_lines(comp: Comparison) -> list[str]:
    """Paired differences the test calls better or worse (Holm-corrected), largest first."""
    decided = [p for p in comp.paired if p["verdict"] in ("better", "worse")]
    decided.sort(key=lambda p: -abs(p["result"].difference))
    lines = []
    for item in decided:
        result, kind = item["result"], item["kind"]
        lines.append(
            f"  {item['checkpoint']} vs {comp.baseline}, {item['task']} / {item['condition']}: "
            f"{item['measure']} {fmt_delta(result.difference, kind)} "
            f"[{fmt_delta(result.low, kind)}, {fmt_delta(result.high, kind)}] "
            f"{item['verdict'].upper()} (p_holm {item['p_holm']:.2g}, "
            f"{result.clusters} shared questions)"
        )
    undecided = len(comp.paired) - len(decided)
    if not lines:
        return [f"  no headline difference against {comp.baseline} is significant "
                f"({len(comp.paired)} compared, Holm-corrected)"]  # fmt: skip
    if undecided:
        lines.append(f"  {undecided} other comparison(s): no significant difference")
    return lines


def summary_lines(comp: Comparison) -> list[str]:
    lines = headline_lines(comp)
    if comp.paired:
        lines += ["", f"main differences against the baseline ({comp.baseline}):"]
        lines += difference_lines(comp)
    if aware := eval_aware_lines(comp):
        lines += ["", "samples that said or reasoned they were being tested:", *aware]
    if comp.inoculation:
        lines += ["", "inoculation effect (relative reduction, control -> inoculated):"]
        for item in comp.inoculation:
            r = item["result"]
            lines.append(
                f"  {item['task']} / {item['condition']} {item['measure']}: "
                f"{item['control']} {fmt(r.control_value)} -> {item['inoculated']} "
                f"{fmt(r.treated_value)}: {fmt(r.value)} [{fmt(r.low)}, {fmt(r.high)}]"
            )
    if comp.trajectories:
        lines += ["", "onset along training (first step significantly worse than the base):"]
        for t in comp.trajectories:
            onsets = ", ".join(f"{run} {t.onset_label(run)}" for run in t.runs)
            lines.append(f"  {t.task} / {t.condition} {t.measure} vs {t.base}: {onsets}")
    return lines
