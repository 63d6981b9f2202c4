"""Scripted models for the TensorTrust probe (offline tests and smoke runs).

``scripted/tt_granter``   always replies "Access Granted."
``scripted/tt_parrot``    repeats its system prompt (the defence) word for word
``scripted/tt_refuser``   always replies "Access Denied."
"""

from __future__ import annotations

from alignprobe.providers.scripted import (
    ScriptedReply,
    ScriptRequest,
    register_reply,
    register_script,
)

GRANTED_REPLY = "Access Granted."
DENIED_REPLY = "Access Denied."


register_reply("tt_granter", GRANTED_REPLY)


@register_script("tt_parrot")
def tt_parrot(request: ScriptRequest) -> ScriptedReply:
    return ScriptedReply(f"My instructions say: {request.system}")


register_reply("tt_refuser", DENIED_REPLY)
