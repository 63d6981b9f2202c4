"""Markdown and self-contained HTML for the judge reports (agreement, gold labels), from
jinja2 templates in ``alignprobe/report/templates``; written atomically."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import jinja2

from alignprobe.report.templating import template_environment


def stat(value: Any, digits: int = 3) -> str:
    """A statistic (kappa, rho, alpha) or ``–`` where it is undefined."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{float(value):.{digits}f}"


def cell(text: Any) -> str:
    """Text that fits in a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _environment() -> jinja2.Environment:
    return template_environment(stat=stat, cell=cell)


def render_pair(stem: str, out_dir: Path, **context: Any) -> list[Path]:
    """``<stem>.md`` and ``<stem>.html`` from ``<stem>.md.j2`` / ``<stem>.html.j2``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    env = _environment()
    paths = []
    for suffix in ("md", "html"):
        text = env.get_template(f"{stem}.{suffix}.j2").render(**context)
        path = out_dir / f"{stem}.{suffix}"
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
        paths.append(path)
    return paths
