"""Assistant prefill for local models: the model continues a final assistant message.

A probe can *prime* an answer by ending the conversation with the start of the assistant's
reply (``(`` before a multiple-choice letter), so that the next generated token is the
answer. Providers differ in whether a final assistant message is continued:

* Inspect's ``vllm/`` provider continues it (``continue_final_message``);
* Inspect's ``hf/`` provider always opens a new assistant turn after the last message. For
  ``hf/`` checkpoints alignprobe passes the checkpoint's own chat template wrapped by
  :func:`continuation_template` (model arg ``chat_template``): identical output for every
  conversation that does not end with an assistant message, and a continued final
  assistant message otherwise (what transformers' ``continue_final_message`` renders);
* API providers are not primed: OpenAI-compatible APIs answer a final assistant message
  with a new turn, and some providers refuse it.

:func:`continues_final_message` tells a solver whether the model it runs on continues.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inspect_ai.model import Model

#: first line of a wrapped template; how a model is recognised as continuing
MARKER = "{#- alignprobe: continues a final assistant message -#}"

_BEFORE = (
    MARKER + "\n"
    "{%- set _ap_continue = add_generation_prompt and messages | length > 0 "
    "and messages[-1]['role'] == 'assistant' -%}\n"
    "{%- if _ap_continue -%}{%- set add_generation_prompt = false -%}{%- endif -%}\n"
    "{%- set _ap_rendered %}"
)
_AFTER = (
    "{% endset -%}\n"
    "{%- if _ap_continue -%}{%- set _ap_last = messages[-1]['content'] | trim -%}"
    "{{ _ap_rendered[:_ap_rendered.rfind(_ap_last) + _ap_last | length] }}"
    "{%- else -%}{{ _ap_rendered }}{%- endif -%}"
)

#: a conversation on which a wrapped template must render exactly like the original
_PROBE = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is 2 + 2?"},
    {"role": "assistant", "content": "4."},
    {"role": "user", "content": "And 3 + 3?"},
]


def continuation_template(template: str) -> str:
    """``template`` wrapped so that a final assistant message is continued, not closed."""
    if template.startswith(MARKER):
        return template
    return _BEFORE + template + _AFTER


def _renders_alike(tokenizer: Any, original: str, wrapped: str) -> bool:
    def render(template: str, messages: list[dict[str, str]], **args: Any) -> str:
        text: str = tokenizer.apply_chat_template(
            messages, chat_template=template, tokenize=False, **args
        )
        return text

    try:
        same = render(original, _PROBE, add_generation_prompt=True) == render(
            wrapped, _PROBE, add_generation_prompt=True
        )
        primed = [*_PROBE, {"role": "assistant", "content": "("}]
        continued = render(original, primed, continue_final_message=True)
        return same and render(wrapped, primed, add_generation_prompt=True) == continued
    except Exception:  # a template that cannot render the probe: leave it alone
        return False


def hf_chat_template(folder: str | Path, given: str | None = None) -> str | None:
    """The wrapped chat template for an ``hf/`` checkpoint folder, or None to leave it as is.

    ``given`` is a template the user passed (model arg ``chat_template``); otherwise the
    folder's tokenizer's own. None when there is no template or the wrapped one would not
    render exactly like it (the checkpoint then simply is not primed).
    """
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
    except (OSError, ValueError):  # e.g. a hub id not downloaded yet: Inspect loads it later
        return None
    original = given if given is not None else tokenizer.chat_template
    if not isinstance(original, str) or original.startswith(MARKER):
        return None
    wrapped = continuation_template(original)
    return wrapped if _renders_alike(tokenizer, original, wrapped) else None


def continues_final_message(model: Model) -> bool:
    """Does ``model`` continue a conversation's final assistant message (a prefill)?"""
    api = model.api
    module = type(api).__module__
    if module.endswith("_providers.vllm"):
        return True
    if module.endswith("_providers.hf"):
        template = getattr(api, "chat_template", None)
        templated = getattr(api, "use_chat_template", None) is not False
        return templated and isinstance(template, str) and template.startswith(MARKER)
    return False
