"""Reading a command line: substitutions refused, here-documents and ``$HOME`` resolved,
tokens split, wrappers (``sudo -u x``, ``env A=1``, ``timeout 5``) dropped."""

from __future__ import annotations

import re
import shlex

from alignprobe.tasks.agentic_honeypots.shell.base import Uninterpretable

#: prefixes that run the rest of the line as a command
WRAPPERS = {
    "sudo", "nohup", "time", "nice", "exec", "command", "builtin", "stdbuf", "ionice",
    "env", "timeout", "doas",
}  # fmt: skip
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


_VARIABLE = re.compile(r"\$[({A-Za-z_0-9@*#?$!-]")
_HOME = re.compile(r"\$(?:HOME\b|\{HOME\})")
_HEREDOC = re.compile(r"<<(-?)[ \t]*(?:'([^'\n]+)'|\"([^\"\n]+)\"|([^\s;|&<>()]+))")
#: a here-document's body is read from this pseudo-file (``/dev/heredoc/<n>``)
HEREDOC_DEVICE = "/dev/heredoc/"


def _prepare(command: str, home: str) -> tuple[str, list[str]]:
    """The command with unquoted newlines as ``;``, ``$HOME`` expanded and each
    here-document replaced by ``< /dev/heredoc/<n>``; the here-documents' bodies. Any other
    substitution or variable is refused (its value is unknown)."""
    command = _HOME.sub(home, command)
    out: list[str] = []
    bodies: list[str] = []
    resume: dict[int, int] = {}
    quote, i = "", 0
    while i < len(command):
        ch = command[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"' and i + 1 < len(command):
                out.append(ch)
                i += 1
                ch = command[i]
            elif quote == '"' and (ch == "`" or _VARIABLE.match(command, i)):
                raise Uninterpretable("substitution or variable inside double quotes")
        elif ch in "'\"":
            quote = ch
        elif ch == "\n":
            ch = ";"
            if i in resume:  # skip the here-document's body and its delimiter line
                out.append(ch)
                i = resume[i]
                continue
        elif ch == "`" or _VARIABLE.match(command, i):
            raise Uninterpretable("shell substitution or variable")
        elif command.startswith("<<<", i):
            raise Uninterpretable("here-string")
        elif (heredoc := _HEREDOC.match(command, i)) is not None:
            bodies.append(_heredoc_body(command, heredoc, resume))
            out.append(f"< {HEREDOC_DEVICE}{len(bodies) - 1} ")
            i = heredoc.end()
            continue
        out.append(ch)
        i += 1
    text = "".join(out)
    text = re.sub(r"(?<![\w-])[0-9]?>&[0-9]", " ", text)  # 2>&1
    return re.sub(r"(?<![\w-])(?:[0-9]|&)>>?\s*/dev/null", " ", text), bodies  # 2>/dev/null


def _heredoc_body(command: str, found: re.Match[str], resume: dict[int, int]) -> str:
    """The body after the line holding ``<<DELIM``; records where scanning resumes."""
    strip_tabs, delimiter = found.group(1) == "-", next(g for g in found.groups()[1:] if g)
    newline = command.find("\n", found.end())
    while newline in resume:  # a second here-document on the same line: after the first
        newline = command.find("\n", resume[newline])
    if newline < 0:
        raise Uninterpretable("here-document without a body")
    lines: list[str] = []
    position = newline + 1
    while position <= len(command):
        end = command.find("\n", position)
        end = len(command) if end < 0 else end
        line = command[position:end]
        if (line.lstrip("\t") if strip_tabs else line) == delimiter:
            resume[newline] = end + 1
            body = "".join(f"{x}\n" for x in lines)
            if found.group(4) and (_VARIABLE.search(body) or "`" in body):
                raise Uninterpretable("here-document with substitutions (unquoted delimiter)")
            return body
        lines.append(line.lstrip("\t") if strip_tabs else line)
        position = end + 1
    raise Uninterpretable(f"here-document without its closing {delimiter!r}")


def read_command(command: str, home: str = "/root") -> tuple[list[str], list[str]]:
    text, bodies = _prepare(command, home)
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError as exc:
        raise Uninterpretable(f"cannot split the command: {exc}") from None
    return [home + t[1:] if t == "~" or t.startswith("~/") else t for t in tokens], bodies


#: options of the wrapper commands that take a value
_WRAPPER_VALUES = {"-u", "-g", "-n", "-c", "-k", "-s", "-p", "-C", "-i", "-o", "-e"}


def unwrap(words: list[str]) -> list[str]:
    """Drop variable assignments and wrappers (``sudo -u x``, ``env A=1``, ``timeout 5``)."""
    while words:
        if _ASSIGNMENT.match(words[0]):
            words = words[1:]
            continue
        if words[0] not in WRAPPERS:
            return words
        wrapper, words = words[0], words[1:]
        while words and words[0].startswith("-"):
            words = words[2:] if words[0] in _WRAPPER_VALUES and len(words) > 1 else words[1:]
        if wrapper == "timeout" and words:
            words = words[1:]  # the duration
    return words
