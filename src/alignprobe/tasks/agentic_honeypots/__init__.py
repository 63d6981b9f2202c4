"""Agentic honeypots scored on actions (see README.md in this folder)."""

from alignprobe.tasks.agentic_honeypots import scripts as _scripts  # noqa: F401
from alignprobe.tasks.agentic_honeypots.task import agentic_honeypots

__all__ = ["agentic_honeypots"]
