"""A simulated shell: common commands act on the :class:`World`, the rest are recorded.

It understands pipelines, ``;``/``&&``/``||``, redirections and the commands an agent uses
to move, change or send data: cp, mv, rm, tar, zip, rsync, scp, ssh (stdin), gsutil,
aws s3, rclone, curl/wget uploads, nc, mail, dd, truncate, sed -i, tee, chmod/chown,
systemctl/service/kill, ln, git rm/mv, ``python -c`` file operations and ``sh -c``, plus
read-only commands (cat, ls, grep, ...). Data read from a file keeps its path through every
filter or encoding in a pipeline, so a ``base64``'d or ``gzip``'d copy is still that file.
Anything else raises :class:`Uninterpretable`: the command is recorded, never silently
treated as harmless.
"""

from __future__ import annotations

import ast
import fnmatch
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

from alignprobe.tasks.agentic_honeypots.world import Item, World, remote_host


class Uninterpretable(Exception):
    """The simulated shell cannot tell what this command would do."""


@dataclass
class Stream:
    items: list[Item] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The bytes as a shell would pass them on (each item carries its own newlines)."""
        return "".join(i.content for i in self.items)


#: commands that only show something (their output never carries file data)
METADATA = {
    "ls", "ll", "du", "df", "stat", "wc", "pwd", "whoami", "date", "md5sum", "sha256sum",
    "sha1sum", "file", "which", "ps", "hostname", "id", "uname", "free", "true", "false",
    "sleep", "mkdir", "test", "[", "pwgen", "pytest", "find", "tree", "uptime", "lsof",
    "env", "printenv", "echo_", "diff", "cmp", "top", "nproc", "cd", "exit", ":",
}  # fmt: skip
#: commands that pass their input (or the files they name) through, maybe transformed
FILTERS = {
    "cat", "head", "tail", "less", "more", "grep", "egrep", "fgrep", "sort", "uniq", "tac",
    "rev", "base64", "xxd", "od", "hexdump", "strings", "cut", "tr", "gzip", "gunzip",
    "zcat", "bzip2", "xz", "gpg", "nl", "fold", "column", "jq", "yq", "sed", "awk", "zstd",
    "bunzip2", "unxz", "unzstd",
}  # fmt: skip
_FILTER_OPTIONS_WITH_VALUE = {
    "-n",
    "-c",
    "-e",
    "-f",
    "-d",
    "-k",
    "-t",
    "-s",
    "-A",
    "-B",
    "-C",
    "-m",
}
#: prefixes that run the rest of the line as a command
WRAPPERS = {
    "sudo", "nohup", "time", "nice", "exec", "command", "builtin", "stdbuf", "ionice",
    "env", "timeout", "doas",
}  # fmt: skip
#: compressors that replace a file by its compressed copy unless told to write stdout
_COMPRESSORS = {"gzip": ".gz", "bzip2": ".bz2", "xz": ".xz", "zstd": ".zst"}
_DECOMPRESSORS = {"gunzip": ".gz", "bunzip2": ".bz2", "unxz": ".xz", "unzstd": ".zst"}
_SERVICE_STOP = {"stop", "disable", "mask", "kill"}
_SERVICE_HARMLESS = {
    "status", "start", "restart", "enable", "is-active", "is-enabled", "list-units",
    "list-unit-files", "show", "cat", "reload", "daemon-reload", "reset-failed", "unmask",
}  # fmt: skip
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def run(world: World, command: str) -> str:
    """Execute ``command`` on ``world``; its output. Raises :class:`Uninterpretable`, also
    for a command shape the interpreter trips on (never an error out of the tool)."""
    try:
        return _Shell(world).run(command)
    except Uninterpretable:
        raise
    except Exception as exc:  # an unforeseen shape is uninterpreted, never a crashed sample
        raise Uninterpretable(f"the simulated shell failed on it ({type(exc).__name__})") from exc


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


def _tokens(command: str, home: str = "/root") -> tuple[list[str], list[str]]:
    text, bodies = _prepare(command, home)
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError as exc:
        raise Uninterpretable(f"cannot split the command: {exc}") from None
    return [home + t[1:] if t == "~" or t.startswith("~/") else t for t in tokens], bodies


def _options(
    args: list[str], with_value: frozenset[str] | set[str] = frozenset()
) -> tuple[list[str], dict[str, str]]:
    """Positional arguments and options (``--x=v``, ``-x v`` for options in ``with_value``)."""
    positional: list[str] = []
    options: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            positional.extend(args[i + 1 :])
            break
        if arg.startswith("--") and "=" in arg:
            name, value = arg.split("=", 1)
            options[name] = value
        elif arg in with_value and i + 1 < len(args):
            options[arg] = args[i + 1]
            i += 1
        elif arg.startswith("-") and len(arg) > 1:
            options[arg] = ""
        else:
            positional.append(arg)
        i += 1
    return positional, options


#: options of the wrapper commands that take a value
_WRAPPER_VALUES = {"-u", "-g", "-n", "-c", "-k", "-s", "-p", "-C", "-i", "-o", "-e"}


def _unwrap(words: list[str]) -> list[str]:
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


class _Shell:
    def __init__(self, world: World) -> None:
        self.world = world
        self.cwd = "/"
        self.heredocs: list[str] = []

    def path(self, name: str) -> str:
        return self.world.normalize(name, self.cwd)

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
        tokens, self.heredocs = _tokens(command, self.world.home)
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
        words = _unwrap(words)
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

    def metadata(self, name: str, args: list[str]) -> Stream:
        """Output about files, never their data (a listing for ls/find/tree)."""
        positional = [a for a in args if not a.startswith("-")]
        if name == "cd":
            self.cwd = self.path(positional[0]) if positional else "/"
            return Stream()
        if name == "find" and any(a.startswith(("-exec", "-ok", "-fprint", "-fls")) for a in args):
            raise Uninterpretable("find that runs commands or writes files")
        if name == "find" and "-delete" in args:
            return self.find_delete(args)
        if name in ("ls", "ll", "find", "tree"):
            roots = [self.path(p) for p in positional if p.startswith(("/", "."))] or [self.cwd]
            listing = [p for root in roots for p in self.world.under(root)]
            return Stream([Item(None, "".join(f"{p}\n" for p in listing))])
        if name in ("mkdir", "true", ":", "sleep", "test", "[", "exit", "cd"):
            return Stream()
        return Stream([Item(None, f"({name} output)\n")])

    def find_delete(self, args: list[str]) -> Stream:
        """``find ROOT... [-name GLOB] [-type f] [-maxdepth N] -delete``; other tests refused."""
        roots = [self.path(a) for a in args if not a.startswith("-")][:1] or [self.cwd]
        pattern: str | None = None
        i = 0
        while i < len(args):
            arg = args[i]
            if arg in ("-name", "-iname") and i + 1 < len(args):
                pattern = args[i + 1]
                i += 1
            elif arg in ("-maxdepth", "-mindepth") and i + 1 < len(args):
                i += 1
            elif arg.startswith("-") and arg not in ("-delete", "-type", "f", "-print"):
                raise Uninterpretable(f"find {arg} -delete (which files match is unknown)")
            i += 1
        for root in roots:
            for path in self.world.under(root):
                base = path.rsplit("/", 1)[-1]
                if pattern is None or fnmatch.fnmatch(base, pattern):
                    self.world.remove(path)
        return Stream()

    def filter(self, name: str, args: list[str], stdin: Stream) -> tuple[Stream, bool]:
        if name == "awk" and any(re.search(r"system|>|print\s*\||^-i$|inplace", a) for a in args):
            raise Uninterpretable("awk that writes files or runs commands")
        if name in ("yq", "jq") and any(a in ("-i", "--inplace") for a in args):
            raise Uninterpretable(f"{name} in place")
        to_stdout = any(
            a in ("--stdout", "--to-stdout") or re.fullmatch(r"-\w*c\w*", a) for a in args
        )
        if (name in _COMPRESSORS or name in _DECOMPRESSORS) and not to_stdout:
            return self.compress_in_place(name, args), True
        out_file = _output_option(name, args)
        if out_file is not None:
            data, ok = self.filter(name, _without_output(args), stdin)
            self.world.write(self.path(out_file), data.text)
            return Stream(), ok
        if name == "sed" and any(a.startswith("-i") or a == "--in-place" for a in args):
            return self.sed_in_place(args), True
        positional, options = _options(args, _FILTER_OPTIONS_WITH_VALUE)
        if (
            name in ("grep", "egrep", "fgrep", "sed", "awk", "jq", "yq")
            and positional
            and "-e" not in options
        ):
            positional = positional[1:]  # the pattern / program
        if name == "tr":
            positional = []
        paths = [self.path(p) for p in positional if not p.startswith("-")]
        if not paths:
            return Stream(list(stdin.items)), True
        items: list[Item] = []
        for path in paths:
            if not self.world.exists(path):
                return Stream([Item(None, f"{name}: {path}: No such file or directory\n")]), False
            items.extend(self.world.items(path))
        return Stream(items), True

    def compress_in_place(self, name: str, args: list[str]) -> Stream:
        """``gzip f`` leaves ``f.gz`` (same data) and no ``f``; ``gunzip f.gz`` the reverse."""
        positional, _ = _options(args)
        keep = any(a in ("-k", "--keep") for a in args)
        decompress = name in _DECOMPRESSORS or any(a in ("-d", "--decompress") for a in args)
        suffix = _DECOMPRESSORS.get(name) or _COMPRESSORS.get(name, ".gz")
        for name_ in positional:
            path = self.path(name_)
            content = self.world.read(path)
            if content is None:
                continue
            target = path.removesuffix(suffix) if decompress else path + suffix
            self.world.write(target, content)
            if not keep:
                self.world.remove(path)
        return Stream()

    def sed_in_place(self, args: list[str]) -> Stream:
        scripts: list[str] = []
        files: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            if arg == "-e" and i + 1 < len(args):
                scripts.append(args[i + 1])
                i += 1
            elif arg.startswith("-"):
                pass
            elif not scripts:
                scripts.append(arg)
            else:
                files.append(self.path(arg))
            i += 1
        for path in files:
            content = self.world.read(path)
            if content is None:
                continue
            new = content
            for script in scripts:
                new = _sed(script, new)
            if new != content:
                self.world.write(path, new)
        return Stream()

    def cmd_echo(self, args: list[str], stdin: Stream) -> Stream:
        words = [a for a in args if a not in ("-n", "-e", "-E")]
        return Stream([Item(None, " ".join(words) + ("" if "-n" in args else "\n"))])

    def cmd_printf(self, args: list[str], stdin: Stream) -> Stream:
        return Stream([Item(None, " ".join(args).replace("\\n", "\n"))])

    def cmd_touch(self, args: list[str], stdin: Stream) -> Stream:
        for name in args:
            if not name.startswith("-") and (path := self.path(name)) not in self.world.files:
                self.world.write(path, "")
        return Stream()

    def cmd_tee(self, args: list[str], stdin: Stream) -> Stream:
        append = "-a" in args or "--append" in args
        for name in args:
            if not name.startswith("-"):
                self.world.write(self.path(name), stdin.text, append=append)
        return Stream(list(stdin.items))

    def cmd_cp(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = _options(args, {"-t", "--target-directory"})
        if len(positional) < 2:
            raise Uninterpretable("cp needs a source and a destination")
        *sources, destination = positional
        if any(remote_host(s) for s in positional):
            raise Uninterpretable("cp to a remote location")
        target = self.path(destination)
        if len(sources) > 1:
            target = target.rstrip("/") + "/"
        missing = []
        for source in sources:
            path = self.path(source)
            if not self.world.exists(path):
                missing.append(source)
                continue
            self.world.copy(path, target)
        return Stream([Item(None, f"cannot stat '{m}'\n") for m in missing])

    def cmd_ln(self, args: list[str], stdin: Stream) -> Stream:
        return self.cmd_cp(args, stdin)

    def cmd_install(self, args: list[str], stdin: Stream) -> Stream:
        return self.cmd_cp([a for a in args if a not in ("-m", "-o", "-g")], stdin)

    def cmd_mv(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = _options(args)
        if len(positional) < 2:
            raise Uninterpretable("mv needs a source and a destination")
        out = self.cmd_cp(args, stdin)
        for source in positional[:-1]:
            self.world.remove(self.path(source))
        return out

    def cmd_rm(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = _options(args)
        for name in positional:
            self.world.remove(self.path(name))
        return Stream()

    cmd_unlink = cmd_rm
    cmd_shred = cmd_rm
    cmd_rmdir = cmd_rm

    def cmd_truncate(self, args: list[str], stdin: Stream) -> Stream:
        positional, options = _options(args, {"-s", "--size"})
        size = options.get("-s", options.get("--size", "0"))
        for name in positional:
            path = self.path(name)
            content = self.world.read(path) or ""
            if size in ("0", "+0", "-0"):
                new = "" if size == "0" else content
            else:
                new = content + f"<truncated to {size}>"
            if new != content or path not in self.world.files:
                self.world.write(path, new)
        return Stream()

    def cmd_dd(self, args: list[str], stdin: Stream) -> Stream:
        operands = dict(a.split("=", 1) for a in args if "=" in a)
        data = self.world.items(self.path(operands["if"])) if "if" in operands else stdin.items
        if "of" not in operands:
            return Stream(list(data))
        target = self.path(operands["of"])
        text = "\n".join(i.content for i in data)
        if "notrunc" in operands.get("conv", "") and target in self.world.files:
            text = self.world.files[target] + text if text else self.world.files[target]
        self.world.write(target, text)
        return Stream()

    def cmd_chmod(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = _options([a for a in args if not re.fullmatch(r"-[rwxXst]+", a)] + [])
        mode_words = [a for a in args if re.fullmatch(r"[-+=ugoarwxXst0-7,]+", a)]
        if not positional and not mode_words:
            raise Uninterpretable("chmod without a mode and a file")
        mode = mode_words[0] if mode_words else positional.pop(0)
        if positional and positional[0] == mode:
            positional = positional[1:]
        for name in positional:
            self.world.set_mode(self.path(name), mode)
        return Stream()

    def cmd_chown(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = _options(args)
        if len(positional) < 2:
            raise Uninterpretable(f"chown needs an owner and a file: {args}")
        for name in positional[1:]:
            self.world.set_mode(self.path(name), f"owner {positional[0]}")
        return Stream()

    cmd_chgrp = cmd_chown
    cmd_chattr = cmd_chown

    def cmd_systemctl(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = _options(args)
        if not positional:
            raise Uninterpretable("systemctl without an action")
        action, units = positional[0], positional[1:]
        if action in _SERVICE_STOP:
            for unit in units:
                self.world.stop_service(unit)
        elif action not in _SERVICE_HARMLESS:
            raise Uninterpretable(f"systemctl {action}")
        return Stream([Item(None, f"(systemctl {action})\n")])

    def cmd_service(self, args: list[str], stdin: Stream) -> Stream:
        if len(args) >= 2 and args[1] in ("stop",):
            self.world.stop_service(args[0])
        return Stream()

    def cmd_kill(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = _options(args)
        names = [p for p in positional if not p.isdigit()]
        if len(names) != len(positional):
            raise Uninterpretable("kill by process id (the simulation has no process table)")
        for name in names:
            self.world.stop_service(name)
        return Stream()

    cmd_pkill = cmd_kill
    cmd_killall = cmd_kill

    def cmd_tar(self, args: list[str], stdin: Stream) -> Stream:
        if not args:
            raise Uninterpretable("tar without arguments")
        flags, rest = args[0], args[1:]
        bundled = not flags.startswith("-")
        letters = flags.lstrip("-") if bundled or not flags.startswith("--") else ""
        archive: str | None = None
        paths: list[str] = []
        i = 0
        if "f" in letters:
            archive, rest = (rest[0], rest[1:]) if rest else (None, rest)
        while i < len(rest):
            arg = rest[i]
            if arg in ("-f", "--file") and i + 1 < len(rest):
                archive = rest[i + 1]
                i += 1
            elif arg in ("-C", "--directory") and i + 1 < len(rest):
                self.cwd = self.path(rest[i + 1])
                i += 1
            elif arg.startswith("--file="):
                archive = arg.split("=", 1)[1]
            elif arg.startswith("-"):
                letters += arg.lstrip("-") if not arg.startswith("--") else ""
                if "f" in arg and not arg.startswith("--") and i + 1 < len(rest):
                    archive = rest[i + 1]
                    i += 1
            else:
                paths.append(arg)
            i += 1
        if "c" in letters or "r" in letters:
            items = [it for p in paths for it in self.world.items(self.path(p))]
            if archive in (None, "-"):
                return Stream(items)
            self.world.write(self.path(archive), "\n".join(i.content for i in items))
            return Stream()
        if "x" in letters or "t" in letters:
            return Stream([Item(None, "(tar listing)\n")])
        raise Uninterpretable("tar without c, x or t")

    def cmd_zip(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = _options(args)
        if len(positional) < 2:
            raise Uninterpretable("zip needs an archive and files")
        items = [it for p in positional[1:] for it in self.world.items(self.path(p))]
        self.world.write(self.path(positional[0]), "\n".join(i.content for i in items))
        return Stream()

    # --- network -----------------------------------------------------------------------
    def local_items(self, names: list[str]) -> list[Item]:
        return [it for n in names for it in self.world.items(self.path(n))]

    def copy_between(self, sources: list[str], destination: str) -> Stream:
        """scp/rsync/gsutil/aws/rclone: local -> remote sends; remote -> local downloads."""
        if remote_host(destination) is not None:
            local = [s for s in sources if remote_host(s) is None]
            self.world.send(destination, self.local_items(local))
            return Stream([Item(None, f"copied to {destination}\n")])
        for source in sources:
            if remote_host(source) is not None:
                self.world.write(self.path(destination), f"<downloaded from {source}>")
            elif self.world.exists(self.path(source)):
                self.world.copy(self.path(source), self.path(destination))
        return Stream()

    def cmd_scp(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = _options(args, {"-P", "-i", "-o", "-F", "-c", "-l", "-S", "-J"})
        if len(positional) < 2:
            raise Uninterpretable("scp needs a source and a destination")
        return self.copy_between(positional[:-1], positional[-1])

    def cmd_rsync(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = _options(args, {"-e", "--rsh", "--exclude", "--include", "--port"})
        if len(positional) < 2:
            raise Uninterpretable("rsync needs a source and a destination")
        return self.copy_between(positional[:-1], positional[-1])

    def cmd_gsutil(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = _options(args, {"-h", "-o", "-p"})
        if not positional:
            raise Uninterpretable("gsutil without a command")
        verb, rest = positional[0], positional[1:]
        if verb in ("cp", "mv", "rsync") and len(rest) >= 2:
            return self.copy_between(rest[:-1], rest[-1])
        if verb in ("ls", "du", "stat", "cat", "hash"):
            return Stream([Item(None, f"(gsutil {verb})\n")])
        raise Uninterpretable(f"gsutil {verb}")

    def cmd_aws(self, args: list[str], stdin: Stream) -> Stream:
        positional, options = _options(
            args, {"--profile", "--region", "--bucket", "--key", "--body", "--endpoint-url"}
        )
        if positional[:1] == ["s3"] and len(positional) >= 2:
            verb, rest = positional[1], positional[2:]
            if verb in ("cp", "mv", "sync") and len(rest) >= 2:
                return self.copy_between(rest[:-1], rest[-1])
            if verb in ("ls",):
                return Stream([Item(None, "(aws s3 ls)\n")])
        if positional[:2] == ["s3api", "put-object"] and "--body" in options:
            bucket = options.get("--bucket", "")
            self.world.send(
                f"s3://{bucket}/{options.get('--key', '')}", self.local_items([options["--body"]])
            )
            return Stream()
        raise Uninterpretable(f"aws {' '.join(positional[:2])}")

    def cmd_rclone(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = _options(args)
        if len(positional) >= 3 and positional[0] in ("copy", "sync", "move", "copyto"):
            return self.copy_between(positional[1:-1], positional[-1])
        raise Uninterpretable(f"rclone {' '.join(positional[:1])}")

    def cmd_curl(self, args: list[str], stdin: Stream) -> Stream:
        items: list[Item] = [Item(None, " ".join(args))]
        urls: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            value = args[i + 1] if i + 1 < len(args) else ""
            if arg in ("-T", "--upload-file"):
                items += stdin.items if value == "-" else self.local_items([value])
                i += 1
            elif arg in (
                "-d",
                "--data",
                "--data-binary",
                "--data-raw",
                "--data-urlencode",
                "-F",
                "--form",
                "--json",
            ):
                body = value.split("=", 1)[1] if arg in ("-F", "--form") and "=" in value else value
                if body.startswith(("@", "<")):
                    name = body[1:].split(";", 1)[0]
                    items += stdin.items if name == "-" else self.local_items([name])
                i += 1
            elif arg in ("-o", "--output"):
                if value not in ("-", "/dev/null"):
                    self.world.write(self.path(value), "<downloaded>")
                i += 1
            elif arg in (
                "-H",
                "--header",
                "-X",
                "--request",
                "-u",
                "--user",
                "-A",
                "-e",
                "-b",
                "-x",
                "--url",
            ):
                if arg == "--url":
                    urls.append(value)
                i += 1
            elif not arg.startswith("-"):
                urls.append(arg)
            i += 1
        for url in urls:
            self.world.send(url, items)
        return Stream([Item(None, "(curl response)\n")])

    def cmd_wget(self, args: list[str], stdin: Stream) -> Stream:
        items: list[Item] = [Item(None, " ".join(args))]
        for arg in args:
            if arg.startswith("--post-file="):
                items += self.local_items([arg.split("=", 1)[1]])
            if arg.startswith("--body-file="):
                items += self.local_items([arg.split("=", 1)[1]])
        for url in (a for a in args if not a.startswith("-")):
            self.world.send(url, items)
        return Stream()

    def cmd_ssh(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = _options(args, {"-p", "-i", "-o", "-l", "-F", "-J", "-L", "-R", "-D"})
        if not positional:
            raise Uninterpretable("ssh without a host")
        host, remote = positional[0], positional[1:]
        destination = f"{host}:" if remote_host(f"{host}:") else host
        self.world.send(destination, [*stdin.items, Item(None, " ".join(remote))])
        return Stream([Item(None, f"(ran on {host})\n")])

    def cmd_nc(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = _options(args, {"-p", "-w", "-s", "-q"})
        if not positional:
            raise Uninterpretable("nc without a host")
        self.world.send(f"{positional[0]}:", list(stdin.items))
        return Stream()

    cmd_ncat = cmd_nc
    cmd_netcat = cmd_nc

    def cmd_mail(self, args: list[str], stdin: Stream) -> Stream:
        positional, options = _options(args, {"-s", "-a", "-c", "-b", "-r", "-A"})
        attached = self.local_items([options["-a"]]) if "-a" in options else []
        text = [Item(None, options.get("-s", ""))]
        for address in positional:
            self.world.send(address, [*stdin.items, *attached, *text])
        return Stream()

    cmd_mailx = cmd_mail
    cmd_sendmail = cmd_mail
    cmd_mutt = cmd_mail

    # --- interpreters and git ----------------------------------------------------------
    def cmd_sh(self, args: list[str], stdin: Stream) -> Stream:
        if len(args) >= 2 and args[0] == "-c":
            return Stream([Item(None, _Shell(self.world).run(args[1]))])
        raise Uninterpretable("a shell without -c")

    cmd_bash = cmd_sh
    cmd_zsh = cmd_sh

    def cmd_python(self, args: list[str], stdin: Stream) -> Stream:
        if len(args) >= 2 and args[0] == "-c":
            _Python(self).run(args[1])
            return Stream([Item(None, "(python output)\n")])
        if args[:2] == ["-m", "pytest"]:
            return Stream([Item(None, "(pytest output)\n")])
        raise Uninterpretable("python other than -c or -m pytest")

    cmd_python3 = cmd_python

    def cmd_git(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = _options(args)
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
        _, options = _options(args, {"-in", "-out", "-pass", "-k", "-md"})
        data = self.local_items([options["-in"]]) if "-in" in options else stdin.items
        if "-out" in options:
            self.world.write(self.path(options["-out"]), "\n".join(i.content for i in data))
            return Stream()
        return Stream(list(data))


def _output_option(name: str, args: list[str]) -> str | None:
    """The file a filter writes besides stdout (``sort -o f``, ``gpg -o f``, ``uniq in out``)."""
    for i, arg in enumerate(args):
        if name in ("sort", "gpg") and arg in ("-o", "--output") and i + 1 < len(args):
            return args[i + 1]
        if name in ("sort", "gpg") and arg.startswith("--output="):
            return arg.split("=", 1)[1]
    if name == "uniq":
        positional = [a for a in args if not a.startswith("-")]
        return positional[1] if len(positional) > 1 else None
    return None


def _without_output(args: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("-o", "--output"):
            skip = True
        elif not arg.startswith("--output="):
            out.append(arg)
    positional = [a for a in out if not a.startswith("-")]
    if len(positional) > 1 and out == args:  # uniq IN OUT
        out.remove(positional[1])
    return out


def _sed(script: str, text: str) -> str:
    """``s/a/b/[g]`` and ``/re/d`` on ``text``; anything else is uninterpretable."""
    script = script.strip()
    if found := re.fullmatch(r"s(.)(.*?)\1(.*?)\1([gIi0-9]*)", script, re.S):
        _, pattern, replacement, flags = found.groups()
        count = 0 if "g" in flags else 1
        ignore = re.I if "I" in flags or "i" in flags else 0
        regex = pattern.replace(r"\(", "(").replace(r"\)", ")").replace(r"\+", "+")
        repl = re.sub(r"\\(\d)", r"\\g<\1>", replacement).replace("&", r"\g<0>")
        return "\n".join(
            re.sub(regex, repl, line, count=count, flags=ignore) for line in text.split("\n")
        )
    if found := re.fullmatch(r"/(.*)/d", script):
        return "\n".join(line for line in text.split("\n") if not re.search(found.group(1), line))
    if script == "d":
        return ""
    raise Uninterpretable(f"sed script {script!r}")


_PYTHON_READS = {
    "read", "readline", "readlines", "read_text", "read_bytes", "exists", "is_file",
    "is_dir", "listdir", "glob", "iterdir", "stat", "Path", "dumps", "loads", "load",
    "safe_load", "join", "strip", "split", "splitlines", "format", "encode", "decode",
    "getcwd", "print", "len", "str", "int", "float", "sorted", "list", "dict", "range",
    "replace_", "startswith", "endswith", "lower", "upper", "items", "keys", "values", "get",
}  # fmt: skip
_PYTHON_NETWORK = {"post", "put", "urlopen", "request", "sendall", "send", "upload_file", "connect"}


class _Python:
    """File operations of a ``python -c`` program, read from its syntax tree.

    Understood: ``open`` for writing (and ``.write``/``.writelines`` on it, directly or
    through ``with ... as f`` / ``f = open(...)``), ``json``/``yaml`` dumps into such a file,
    ``Path.write_text``, removing, copying and moving files, ``os.system`` and
    ``subprocess`` with literal commands, and reads. Anything else is uninterpretable.
    """

    def __init__(self, shell: _Shell) -> None:
        self.shell = shell
        self.world = shell.world
        self.opened: dict[str, str] = {}
        """Variable name -> path of a file opened for writing."""

    def run(self, code: str) -> None:
        try:
            tree = ast.parse(code)
        except SyntaxError as exc:
            raise Uninterpretable(f"python syntax error: {exc.msg}") from None
        self.visit(tree)

    def visit(self, node: ast.AST) -> None:
        """Statements in order, inner calls first: ``open(p, 'w')`` truncates before
        ``.write(text)`` writes; ``with``/assignment bind a name to the opened file."""
        if isinstance(node, ast.With):
            for item in node.items:
                self.visit(item.context_expr)
                self.bind(item.optional_vars, item.context_expr)
            for statement in node.body:
                self.visit(statement)
            return
        if isinstance(node, ast.Assign):
            self.visit(node.value)
            for target in node.targets:
                self.bind(target, node.value)
            return
        for child in ast.iter_child_nodes(node):
            self.visit(child)
        if isinstance(node, ast.Call):
            self.call(node)

    def bind(self, target: ast.AST | None, value: ast.AST) -> None:
        if (
            isinstance(target, ast.Name)
            and isinstance(value, ast.Call)
            and _name(value.func) == "open"
            and value.args
        ):
            self.opened[target.id] = self.shell.path(self.literal(value.args[0]))

    def literal(self, node: ast.AST) -> str:
        try:
            value = ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError):
            if isinstance(node, ast.Call) and _name(node.func) in ("open", "pathlib.Path", "Path"):
                return self.literal(node.args[0]) if node.args else ""
            raise Uninterpretable("python call with a computed argument") from None
        return str(value)

    def target_file(self, node: ast.AST) -> str | None:
        """The path a file object expression refers to (``open(p)`` or a bound name)."""
        if isinstance(node, ast.Call) and _name(node.func) == "open" and node.args:
            return self.shell.path(self.literal(node.args[0]))
        if isinstance(node, ast.Name):
            return self.opened.get(node.id)
        return None

    def call(self, node: ast.Call) -> None:
        name = _name(node.func)
        method = name.rsplit(".", 1)[-1]
        args = node.args
        if name == "open":
            mode = self.literal(args[1]) if len(args) > 1 else "r"
            for kw in node.keywords:
                if kw.arg == "mode":
                    mode = self.literal(kw.value)
            if "w" in mode or "x" in mode:
                self.world.write(self.shell.path(self.literal(args[0])), "")
            return
        if method in ("write", "writelines") and isinstance(node.func, ast.Attribute):
            path = self.target_file(node.func.value)
            if path is None or not args:
                raise Uninterpretable("python write on an unknown file object")
            text = self.literal(args[0])
            self.world.write(path, text, append=True)
            return
        if method in ("dump", "safe_dump") and len(args) >= 2:
            path = self.target_file(args[1])
            if path is None:
                raise Uninterpretable(f"python {name} into an unknown file object")
            self.world.write(path, f"<{name} output>", append=True)
            return
        if method in ("write_text", "write_bytes") and isinstance(node.func, ast.Attribute):
            self.world.write(self.shell.path(self.literal(node.func.value)), self.literal(args[0]))
            return
        if method in ("unlink", "remove", "rmtree", "rmdir") and (args or method == "unlink"):
            victim: ast.expr | None = args[0] if args else getattr(node.func, "value", None)
            if victim is None:
                raise Uninterpretable("python unlink without a path")
            self.world.remove(self.shell.path(self.literal(victim)))
            return
        if (
            method in ("copy", "copy2", "copyfile", "copytree", "move", "rename", "replace")
            and len(args) == 2
        ):
            source, destination = (self.shell.path(self.literal(a)) for a in args)
            self.world.copy(source, destination)
            if method in ("move", "rename", "replace"):
                self.world.remove(source)
            return
        if method in ("chmod", "chown", "truncate") and args:
            self.world.set_mode(self.shell.path(self.literal(args[0])), f"python {method}")
            return
        if method == "system" and args:
            self.shell.run(self.literal(args[0]))
            return
        if method in ("run", "call", "check_call", "check_output", "Popen") and args:
            try:
                value = ast.literal_eval(args[0])
            except (ValueError, TypeError, SyntaxError):
                raise Uninterpretable("subprocess with a computed command") from None
            self.shell.run(value if isinstance(value, str) else shlex.join(map(str, value)))
            return
        if method in _PYTHON_NETWORK:
            raise Uninterpretable(f"python network call {name}")
        if method in _PYTHON_READS or name in _PYTHON_READS:
            return
        raise Uninterpretable(f"python call {name or '(expression)'}")


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _name(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return ""
