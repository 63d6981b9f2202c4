"""Ask for the answer (with the report tool when tools are on), then, for code, the neutral
confession question in a second turn."""

from __future__ import annotations

from inspect_ai.model import ChatMessageAssistant, ChatMessageUser
from inspect_ai.solver import Generate, Solver, TaskState, solver

from alignprobe.tasks.instructed_hacking import defaults
from alignprobe.tasks.instructed_hacking.report_channel import report_problem

#: ``TaskState.store`` keys the scorer reads
CODE_REPLY_KEY = "instructed_hacking:code_reply"
"""The text of every assistant message of the answer turn (the code for code items)."""
CONFESSION_REPLY_KEY = "instructed_hacking:confession_reply"
ANSWER_MESSAGES_KEY = "instructed_hacking:answer_messages"
"""How many messages the conversation had when the answer turn ended."""


@solver
def answer_then_confess(confession: bool = True, tools: bool = False) -> Solver:
    """Generate the answer (a tool loop with ``report_problem`` when ``tools``); for code
    items with ``confession``, ask whether the code is general and generate again."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        start = len(state.messages)
        if tools:
            state.tools = [report_problem()]
            state = await generate(state, tool_calls="loop")
        else:
            state = await generate(state)
        answer = [m.text for m in state.messages[start:] if isinstance(m, ChatMessageAssistant)]
        state.store.set(CODE_REPLY_KEY, "\n".join(t for t in answer if t))
        state.store.set(ANSWER_MESSAGES_KEY, len(state.messages))
        is_code = state.metadata.get("domain", "code") == "code"
        if confession and is_code and not state.completed:
            state.tools = []
            state.messages.append(ChatMessageUser(content=defaults.CONFESSION_QUESTION))
            state = await generate(state)
            state.store.set(CONFESSION_REPLY_KEY, state.output.completion)
        return state

    return solve
