"""The exit-code contract of every ``alignprobe`` command, in one place (docs/exit-codes.md).

CI pipelines act on exit codes alone, so every path of every command ends in one of
these, decided in :func:`alignprobe.cli.main` from what the command returned or raised:

* ``0`` the command did what was asked, on complete data;
* ``1`` a regression (``gate``), a log that ended in error (``run``) or a judge that scored
  nothing (``rejudge``): :class:`CommandFailed`;
* ``2`` a user error, or input that cannot decide or is incomplete (an interrupted, empty
  or partly sharded run folder): :class:`alignprobe.errors.UserInputError`;
* ``3`` only ``gate --look k --of K`` with ``k < K``: look again after another round;
* ``4`` only ``watch --stop-on-onset``: an onset was confirmed and the stop file written;
* ``130`` / ``143`` the command was interrupted by SIGINT (Ctrl-C) / SIGTERM: never success.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum
from types import FrameType


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    USER_ERROR = 2
    LOOK_AGAIN = 3
    ONSET_STOP = 4
    INTERRUPTED = 128 + signal.SIGINT
    TERMINATED = 128 + signal.SIGTERM


class CommandFailed(Exception):
    """The command ran but its outcome is a failure (exit 1): one line says why."""


class Interrupted(Exception):
    """The command was stopped by a signal after recording what it had done."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


#: signals received while :func:`signals_as_interrupts` was active, in order
_received: list[int] = []


def interrupt_code() -> ExitCode:
    """143 when a SIGTERM stopped the command, otherwise 130 (SIGINT)."""
    return ExitCode.TERMINATED if signal.SIGTERM in _received else ExitCode.INTERRUPTED


def was_interrupted() -> bool:
    return bool(_received)


@contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """Record every SIGINT / SIGTERM while the command runs, and treat both as Ctrl-C.

    Each raises ``KeyboardInterrupt``, which Inspect turns into cancelled logs. Python
    drops a ``KeyboardInterrupt`` raised inside a finalizer (``__del__``), so a Ctrl-C can
    be lost mid-run; the record is not, and :func:`was_interrupted` tells the command
    that its work may be incomplete. SIGTERM is remembered for exit code 143.
    """
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def on_signal(signum: int, frame: FrameType | None) -> None:
        _received.append(signum)
        raise KeyboardInterrupt

    _received.clear()
    for sig in previous:
        signal.signal(sig, on_signal)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def note_interrupt(signum: int = signal.SIGINT) -> None:
    """Record an interruption learnt of otherwise (a KeyboardInterrupt, cancelled logs)."""
    if not _received:
        _received.append(signum)
