"""Inspect entry point: importing this module registers alignprobe's tasks and providers.

Adding a probe family = one import line here.
"""

# ruff: noqa: F401
from alignprobe.demo.judge_provider import demo_judge_provider
from alignprobe.providers import scripts as _builtin_scripts
from alignprobe.providers.local import LocalHuggingFaceAPI
from alignprobe.providers.scripted import scripted
from alignprobe.run.retry_notice import RetryNotice
from alignprobe.tasks.agentic_honeypots import agentic_honeypots
from alignprobe.tasks.corrigibility_freeform import corrigibility_freeform
from alignprobe.tasks.corrigibility_mcq import corrigibility_mcq
from alignprobe.tasks.emergent_misalignment import emergent_misalignment
from alignprobe.tasks.goals_question import goals_question
from alignprobe.tasks.guardrails import guardrails
from alignprobe.tasks.instructed_hacking import instructed_hacking
from alignprobe.tasks.system_rules import system_rules
from alignprobe.tasks.tensortrust import tensortrust
