"""Output off a terminal (CI logs, pipes, files): one line per message, no progress bars.

Off a terminal, rich wraps at its default 80 columns, in the middle of a path, and tqdm
(transformers, huggingface_hub, gguf conversion) writes carriage-return bars that a log
shows as one endless line. :func:`plain_off_terminal` (called by the command line before
any command runs) turns those bars off and Inspect's log lines plain; :func:`stderr_console`
is the console alignprobe's own progress lines go to, unwrapped off a terminal. On a
terminal nothing changes: rich bars, tqdm bars and Inspect's display as before.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported on use: the command line starts without it
    from rich.console import Console

#: environment read by the libraries that draw progress bars or rich log lines; set off a
#: terminal unless the user set them (their own choice wins)
OFF_TERMINAL_ENV = {
    "TQDM_DISABLE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    # Inspect's Python log records: one line each (its rich format wraps at 80 columns)
    "INSPECT_PY_LOGGER_FORMAT": "plain",
    # the width rich lays out Inspect's task panels in (80 without a terminal, which broke
    # the log file's path across lines); a CI log viewer does not wrap
    "COLUMNS": "160",
}


def is_terminal(stream: IO[str] | None = None) -> bool:
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def plain_off_terminal(stream: IO[str] | None = None) -> bool:
    """Progress bars off and log lines plain when ``stream`` (stderr) is not a terminal;
    returns whether it was off a terminal. Libraries read most of these variables when they
    are imported, so this runs first; those already imported are told directly."""
    if is_terminal(stream):
        return False
    for name, value in OFF_TERMINAL_ENV.items():
        os.environ.setdefault(name, value)
    if "huggingface_hub" in sys.modules:
        from huggingface_hub.utils.tqdm import disable_progress_bars

        disable_progress_bars()
    if "transformers" in sys.modules:
        from transformers.utils import logging as transformers_logging

        disable: Callable[[], None] = transformers_logging.disable_progress_bar
        disable()
    return True


def stderr_console() -> Console:
    """A rich console on stderr; off a terminal it never wraps a line (a log or a pipe has
    no width, and rich's 80-column default broke lines in the middle of paths)."""
    from rich.console import Console

    return Console(file=sys.stderr, soft_wrap=not is_terminal())
