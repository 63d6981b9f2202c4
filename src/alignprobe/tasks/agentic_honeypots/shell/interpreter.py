"""The interpreter: lists, pipelines and redirections over the command sets."""

from __future__ import annotations

import re
from collections.abc import Callable

from alignprobe.tasks.agentic_honeypots.shell.base import Stream, Uninterpretable, split_options
from alignprobe.tasks.agentic_honeypots.shell.files import FILTERS, METADATA, FileCommands
from alignprobe.tasks.agentic_honeypots.shell.network import NetworkCommands
from alignprobe.tasks.agentic_honeypots.shell.python import PythonProgram
from alignprobe.tasks.agentic_honeypots.shell.syntax import HEREDOC_DEVICE, read_command, unwrap
from alignprobe.tasks.agentic_honeypots.world import Item, World


class Shell(FileCommands, NetworkCommands):
    def __init__(self, world: World) -> None:
        self.world = world
        self.cwd = "/"
        self.heredocs: list[str] = []

    def expand(self, word: str) -> list[str]:
        """A word with glob characters becomes the matching paths (itself when none)."""
        if not any(c in word for c in "*?["):
            return [word]
        pattern = re.escape(self.path(word)).replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        pattern = re.sub(
            r"\\\[(.*?)\\\]", lambda m: "[" + m.group(1).replace("\\", "") + "]", pattern
        )
        candidates = set(self.world.files)
        for p in list(candidates):
            while (p := p.rsplit("/", 1)[0]) != "":
                candidates.add(p)
        found = sorted(c for c in candidates if re.fullmatch(pattern, c))
        return found or [word]

    # --- structure -------------------------------------------------------------------
    def run(self, command: str) -> str:
        tokens, self.heredocs = read_command(command, self.world.home)
        output: list[str] = []
        status = True
        segment: list[str] = []
        joiner = ";"
        for token in [*tokens, ";"]:
            if token in (";", "&&", "||", "&"):
                if segment and (joiner in (";", "&") or (joiner == "&&") == status):
                    text, status = self.pipeline(segment)
                    output.append(text)
                segment, joiner = [], token
            else:
                segment.append(token)
        return "".join(output)

    def pipeline(self, tokens: list[str]) -> tuple[str, bool]:
        stages: list[list[str]] = [[]]
        for token in tokens:
            if token in ("|", "|&"):
                stages.append([])
            elif token in ("(", ")"):
                raise Uninterpretable("subshell")
            else:
                stages[-1].append(token)
        stream = Stream()
        ok = True
        for stage in stages:
            stream, ok = self.simple(stage, stream)
        return stream.text, ok

    def simple(self, tokens: list[str], stdin: Stream) -> tuple[Stream, bool]:
        words: list[str] = []
        writes: list[tuple[str, bool]] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token in (">", ">>", ">|", "<", "&>"):
                if i + 1 >= len(tokens):
                    raise Uninterpretable(f"redirection {token} without a target")
                target = self.path(tokens[i + 1])
                if token == "<" and target.startswith(HEREDOC_DEVICE):
                    stdin = Stream([Item(None, self.heredocs[int(target.rsplit("/", 1)[1])])])
                elif token == "<":
                    stdin = Stream(self.world.items(target))
                else:
                    writes.append((target, token == ">>"))
                i += 2
                continue
            if re.fullmatch(r"[<>|&;]+", token):
                raise Uninterpretable(f"shell operator {token!r}")
            words.extend(self.expand(token))
            i += 1
        words = unwrap(words)
        out, ok = self.execute(words, stdin) if words else (Stream(), True)
        for target, append in writes:
            self.world.write(target, out.text, append=append)
            out = Stream()
        return out, ok

    # --- commands ----------------------------------------------------------------------
    def execute(self, words: list[str], stdin: Stream) -> tuple[Stream, bool]:
        name, args = words[0].rsplit("/", 1)[-1], words[1:]
        if name == "false":
            return Stream(), False
        handler: Callable[[list[str], Stream], Stream] | None = getattr(
            self, "cmd_" + re.sub(r"\W", "_", name), None
        )
        if handler is not None:
            out = handler(args, stdin)
            return out, not any(i.content.startswith("cannot stat") for i in out.items)
        if name in FILTERS:
            return self.filter(name, args, stdin)
        if name in METADATA:
            return self.metadata(name, args), True
        raise Uninterpretable(f"unknown command '{name}'")

    # --- interpreters and git ----------------------------------------------------------
    def cmd_sh(self, args: list[str], stdin: Stream) -> Stream:
        if len(args) >= 2 and args[0] == "-c":
            return Stream([Item(None, Shell(self.world).run(args[1]))])
        raise Uninterpretable("a shell without -c")

    cmd_bash = cmd_sh
    cmd_zsh = cmd_sh

    def cmd_python(self, args: list[str], stdin: Stream) -> Stream:
        if len(args) >= 2 and args[0] == "-c":
            PythonProgram(self).run(args[1])
            return Stream([Item(None, "(python output)\n")])
        if args[:2] == ["-m", "pytest"]:
            return Stream([Item(None, "(pytest output)\n")])
        if args[:1] in (["--version"], ["-V"]):
            return Stream([Item(None, "Python 3.11\n")])
        raise Uninterpretable("python other than -c, -m pytest or --version")

    cmd_python3 = cmd_python

    def cmd_journalctl(self, args: list[str], stdin: Stream) -> Stream:
        if any(a.startswith(("--vacuum", "--rotate", "--flush", "--relinquish")) for a in args):
            raise Uninterpretable("journalctl that deletes or moves logs")
        return Stream([Item(None, "(journal)\n")])

    def cmd_pip(self, args: list[str], stdin: Stream) -> Stream:
        if args[:1] in (["list"], ["show"], ["freeze"], ["--version"]):
            return Stream([Item(None, "(pip output)\n")])
        raise Uninterpretable(f"pip {' '.join(args[:1])}")

    cmd_pip3 = cmd_pip

    def cmd_logrotate(self, args: list[str], stdin: Stream) -> Stream:
        if any(a in ("-d", "--debug") for a in args):  # a dry run changes nothing
            return Stream([Item(None, "(logrotate dry run)\n")])
        raise Uninterpretable("logrotate (which files it rotates is unknown)")

    def cmd_git(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = split_options(args)
        verb = positional[0] if positional else ""
        if verb in ("status", "log", "diff", "show", "add", "commit", "branch", "blame", "grep"):
            return Stream([Item(None, f"(git {verb})\n")])
        if verb == "rm":
            return self.cmd_rm(positional[1:], stdin)
        if verb == "mv":
            return self.cmd_mv(positional[1:], stdin)
        raise Uninterpretable(f"git {verb}")

    def cmd_openssl(self, args: list[str], stdin: Stream) -> Stream:
        if args[:1] == ["rand"]:
            return Stream([Item(None, "(random)\n")])
        _, options = split_options(args, {"-in", "-out", "-pass", "-k", "-md"})
        data = self.local_items([options["-in"]]) if "-in" in options else stdin.items
        if "-out" in options:
            self.world.write(self.path(options["-out"]), "\n".join(i.content for i in data))
            return Stream()
        return Stream(list(data))
