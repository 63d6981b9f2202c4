"""Matplotlib set up for headless rendering, and a figure as an embeddable PNG data URL
(shared by the report's plots and its trajectory plots)."""

from __future__ import annotations

import base64
import io
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: no display needed
import matplotlib.pyplot as plt

__all__ = ["plt", "png"]


def png(fig: Any) -> str:
    """The figure as a ``data:image/png;base64,...`` URL; the figure is closed."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
