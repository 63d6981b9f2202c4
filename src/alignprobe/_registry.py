"""Inspect entry point: importing this module registers alignprobe's tasks and providers.

The tasks are those named in :mod:`alignprobe.tasks.registry` (each family's package
registers its ``@task`` when imported), so adding a probe family is one name there.
"""

# ruff: noqa: F401
from importlib import import_module

from alignprobe.demo.judge_provider import demo_judge_provider
from alignprobe.providers import scripts as _builtin_scripts
from alignprobe.providers.local_provider import local_provider
from alignprobe.providers.scripted import scripted
from alignprobe.run.retry_notice import RetryNotice
from alignprobe.tasks.registry import ALIGNPROBE_TASKS

for _family in ALIGNPROBE_TASKS:
    import_module(f"alignprobe.tasks.{_family}")
