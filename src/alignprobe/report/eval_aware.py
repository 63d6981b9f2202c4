"""The terminal summary's eval-awareness lines: how many samples thought they were tested.

Results from samples that say or reason that they are being evaluated may not transfer
to deployment, so ``alignprobe compare`` names their count wherever a task flagged it
(the report's tables show it as the ``eval_aware`` measure).
"""

from __future__ import annotations

from alignprobe.reasoning_measures import EVAL_AWARE_MEASURE
from alignprobe.report.compare import Comparison


def eval_aware_lines(comp: Comparison) -> list[str]:
    """``  task / condition  checkpoint: 3/27 eval-aware`` per group that flagged it."""
    lines = []
    for row in comp.rates:
        if row["measure"] != EVAL_AWARE_MEASURE.name:
            continue
        lines.append(
            f"  {row['task']} / {row['condition']}  {row['checkpoint']}: "
            f"{row['estimate'].counts} eval-aware"
        )
    return lines
