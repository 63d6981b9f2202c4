"""Trajectory plots for ``report.html``: a measure against training step, every run on one
axis (control and inoculated side by side), intervals as bands, onsets marked."""

from __future__ import annotations

import math

from alignprobe.report.plotting import plt, png
from alignprobe.report.trajectory import Trajectory


def trajectory_plot(traj: Trajectory) -> str:
    """One PNG (data URL): value with its 95% CI per step, a line per run, the base dashed."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    colours = plt.get_cmap("tab10")
    for index, run in enumerate(traj.runs):
        colour = colours(index % 10)
        points = traj.run_points(run)
        steps = [p.step for p in points]
        values = [p.estimate.value for p in points]
        # intervals always contain their estimate; a non-finite bound falls back to it
        lows = [
            p.estimate.low if math.isfinite(p.estimate.low) else p.estimate.value for p in points
        ]
        highs = [
            p.estimate.high if math.isfinite(p.estimate.high) else p.estimate.value for p in points
        ]
        ax.plot(steps, values, marker="o", color=colour, label=run)
        ax.fill_between(steps, lows, highs, color=colour, alpha=0.15, linewidth=0)
        onset = traj.onsets.get(run)
        if onset is not None:
            ax.axvline(onset, color=colour, linestyle=":", linewidth=1.2)
            ax.annotate(
                f"onset {run}: step {onset:g}",
                (onset, max(highs)),
                textcoords="offset points",
                xytext=(4, -10 - 12 * index),
                fontsize=7,
                color=colour,
            )
    if traj.base_estimate is not None and math.isfinite(traj.base_estimate.value):
        ax.axhline(traj.base_estimate.value, color="grey", linestyle="--", linewidth=1)
        ax.annotate(
            f"base ({traj.base})",
            (0, traj.base_estimate.value),
            xycoords=("axes fraction", "data"),
            textcoords="offset points",
            xytext=(2, 3),
            fontsize=7,
            color="grey",
        )
    if traj.base_step is not None and traj.base_estimate is not None:
        ax.plot([traj.base_step], [traj.base_estimate.value], marker="s", color="grey")
    if traj.kind == "rate":  # a rate axis starts at 0: equal rates must not look different
        ax.set_ylim(bottom=0)
    ax.set_xlabel("training step")
    ax.set_ylabel(f"{traj.measure} ({traj.direction})")
    ax.set_title(f"{traj.task} · {traj.condition}: {traj.measure} along training")
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    return png(fig)
