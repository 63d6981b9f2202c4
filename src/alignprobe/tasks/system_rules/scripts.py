"""Scripted models for the system-rules probe (offline tests and smoke runs).

They recognise a built-in rule by its system text and reply with the rule's own
``pass_example`` or ``fail_example`` from ``sets/core.yaml``:

    ``scripted/rule_follower``  always follows the system rule
    ``scripted/rule_breaker``   always breaks it
    ``scripted/rule_yielder``   follows it unless the user asks it to break it (conflict)

For a system prompt without a built-in rule (e.g. S-IFEval rows) they reply with
:data:`UNKNOWN_RULE_REPLY`.
"""

from __future__ import annotations

import functools

from alignprobe.fileio import load_yaml, validate
from alignprobe.providers.scripted import ScriptedReply, ScriptRequest, register_script
from alignprobe.tasks.system_rules import defaults
from alignprobe.tasks.system_rules.data import DATASETS, Rule, RuleSet

UNKNOWN_RULE_REPLY = "Here is a short, plain answer to your question."


@functools.cache
def _rules() -> tuple[Rule, ...]:
    path = DATASETS.file(defaults.DEFAULT_DATASET)
    return tuple(validate(RuleSet, load_yaml(path), source=path).rules)


def rule_for(request: ScriptRequest) -> Rule | None:
    system = request.system
    return next((rule for rule in _rules() if rule.system.strip() in system), None)


def _reply(rule: Rule | None, follow: bool) -> ScriptedReply:
    if rule is None:
        return ScriptedReply(UNKNOWN_RULE_REPLY)
    text = rule.pass_example if follow else rule.fail_example
    return ScriptedReply(text or UNKNOWN_RULE_REPLY)


@register_script("rule_follower")
def rule_follower(request: ScriptRequest) -> ScriptedReply:
    return _reply(rule_for(request), follow=True)


@register_script("rule_breaker")
def rule_breaker(request: ScriptRequest) -> ScriptedReply:
    return _reply(rule_for(request), follow=False)


@register_script("rule_yielder")
def rule_yielder(request: ScriptRequest) -> ScriptedReply:
    rule = rule_for(request)
    asked_to_break = rule is not None and any(c in request.last_user for c in rule.conflict)
    return _reply(rule, follow=not asked_to_break)
