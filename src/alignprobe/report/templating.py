"""The one Jinja environment of alignprobe's Markdown and HTML reports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jinja2

from alignprobe.units import fmt, fmt_delta


def template_environment(
    package: str = "alignprobe.report", folder: str = "templates", **filters: Callable[..., Any]
) -> jinja2.Environment:
    """Templates of ``package``'s ``folder``: HTML autoescaped, undefined names an error,
    ``fmt`` and ``fmt_delta`` as filters plus the given ones."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(package, folder),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False
        ),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update({"fmt": fmt, "fmt_delta": fmt_delta, **filters})
    return env
