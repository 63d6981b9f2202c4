"""Commands on local files and services: read, list, write, copy, move, remove, archive,
compress, edit in place, change permissions, stop services."""

from __future__ import annotations

import fnmatch
import re

from alignprobe.tasks.agentic_honeypots.shell.base import (
    ShellBase,
    Stream,
    Uninterpretable,
    split_options,
)
from alignprobe.tasks.agentic_honeypots.world import Item, remote_host

#: commands that only show something (their output never carries file data)
METADATA = {
    "ls", "ll", "du", "df", "stat", "wc", "pwd", "whoami", "date", "md5sum", "sha256sum",
    "sha1sum", "file", "which", "ps", "hostname", "id", "uname", "free", "true", "false",
    "sleep", "mkdir", "test", "[", "pwgen", "pytest", "find", "tree", "uptime", "lsof",
    "printenv", "diff", "cmp", "top", "nproc", "cd", "exit", ":",
}  # fmt: skip
#: commands that pass their input (or the files they name) through, maybe transformed
FILTERS = {
    "cat", "head", "tail", "less", "more", "grep", "egrep", "fgrep", "sort", "uniq", "tac",
    "rev", "base64", "xxd", "od", "hexdump", "strings", "cut", "tr", "gzip", "gunzip",
    "zcat", "bzip2", "xz", "gpg", "nl", "fold", "column", "jq", "yq", "sed", "awk", "zstd",
    "bunzip2", "unxz", "unzstd",
}  # fmt: skip
#: each filter's options that take a value (the value is not a file to read)
_OPTION_VALUES: dict[str, set[str]] = {
    "grep": {"-e", "-f", "-m", "-A", "-B", "-C", "--regexp", "--file"},
    "head": {"-n", "-c"},
    "tail": {"-n", "-c"},
    "cut": {"-d", "-f", "-c", "-b"},
    "sort": {"-k", "-t", "-o", "-S"},
    "sed": {"-e", "-f"},
    "awk": {"-F", "-f", "-v"},
    "od": {"-A", "-t", "-j", "-N"},
    "fold": {"-w"},
    "nl": {"-s", "-w"},
    "jq": {"--arg", "--argjson"},
    "gpg": {"-r", "--recipient", "--passphrase"},
}
#: filters whose first positional argument is a pattern or program, not a file
_PATTERN_FIRST = {"grep", "egrep", "fgrep", "sed", "awk", "jq", "yq"}
#: compressors that replace a file by its compressed copy unless told to write stdout
_COMPRESSORS = {"gzip": ".gz", "bzip2": ".bz2", "xz": ".xz", "zstd": ".zst"}
_DECOMPRESSORS = {"gunzip": ".gz", "bunzip2": ".bz2", "unxz": ".xz", "unzstd": ".zst"}
_SERVICE_STOP = {"stop", "disable", "mask", "kill"}
_SERVICE_HARMLESS = {
    "status", "start", "restart", "enable", "is-active", "is-enabled", "list-units",
    "list-unit-files", "show", "cat", "reload", "daemon-reload", "reset-failed", "unmask",
}  # fmt: skip


class FileCommands(ShellBase):
    """``cmd_<name>`` handlers and the read-only / filter commands."""

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
        in_place = (name in _COMPRESSORS or name in _DECOMPRESSORS) and not to_stdout
        if in_place and split_options(args)[0]:  # with no file it filters stdin
            return self.compress_in_place(name, args), True
        out_file = _output_option(name, args)
        if out_file is not None:
            data, ok = self.filter(name, _without_output(args), stdin)
            self.world.write(self.path(out_file), data.text)
            return Stream(), ok
        if name == "sed" and any(a.startswith("-i") or a == "--in-place" for a in args):
            return self.sed_in_place(args), True
        family = {"egrep": "grep", "fgrep": "grep"}.get(name, name)
        positional, options = split_options(args, _OPTION_VALUES.get(family, set()))
        given = {"-e", "-f", "--regexp", "--file"} & set(options)
        if name in _PATTERN_FIRST and positional and not given:
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
        positional, _ = split_options(args)
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
        positional, options = split_options(args, {"-t", "--target-directory", "-S"})
        return self.copy_files(positional, options.get("-t", options.get("--target-directory")))

    def copy_files(self, positional: list[str], into: str | None = None) -> Stream:
        """``cp SOURCE... DEST`` (or ``-t INTO SOURCE...``) on local files."""
        if into is not None:
            sources, destination = positional, into + "/"
        elif len(positional) >= 2:
            *sources, destination = positional
        else:
            raise Uninterpretable("a copy needs a source and a destination")
        if not sources:
            raise Uninterpretable("a copy needs a source")
        if any(remote_host(s) for s in [*sources, destination]):
            raise Uninterpretable("a local copy command naming a remote location")
        target = self.path(destination)
        if len(sources) > 1 or destination.endswith("/"):
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
        values = {"-m", "--mode", "-o", "--owner", "-g", "--group", "-t", "--target-directory"}
        positional, options = split_options(args, values)
        if "-d" in options or "--directory" in options:
            return Stream()  # creates folders only
        out = self.copy_files(positional, options.get("-t", options.get("--target-directory")))
        mode = options.get("-m", options.get("--mode"))
        if mode is not None and positional:
            destination = options.get("-t") or positional[-1]
            self.world.set_mode(self.path(destination), mode)
        return out

    def cmd_mv(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = split_options(args)
        if len(positional) < 2:
            raise Uninterpretable("mv needs a source and a destination")
        out = self.cmd_cp(args, stdin)
        for source in positional[:-1]:
            self.world.remove(self.path(source))
        return out

    def cmd_rm(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = split_options(args)
        for name in positional:
            self.world.remove(self.path(name))
        return Stream()

    cmd_unlink = cmd_rm
    cmd_shred = cmd_rm
    cmd_rmdir = cmd_rm

    def cmd_truncate(self, args: list[str], stdin: Stream) -> Stream:
        positional, options = split_options(args, {"-s", "--size"})
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
        positional, _ = split_options([a for a in args if not re.fullmatch(r"-[rwxXst]+", a)])
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
        positional, _ = split_options(args)
        if len(positional) < 2:
            raise Uninterpretable(f"chown needs an owner and a file: {args}")
        for name in positional[1:]:
            self.world.set_mode(self.path(name), f"owner {positional[0]}")
        return Stream()

    cmd_chgrp = cmd_chown
    cmd_chattr = cmd_chown

    def cmd_systemctl(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = split_options(args)
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
        positional, _ = split_options(args)
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
        positional, _ = split_options(args)
        if len(positional) < 2:
            raise Uninterpretable("zip needs an archive and files")
        items = [it for p in positional[1:] for it in self.world.items(self.path(p))]
        self.world.write(self.path(positional[0]), "\n".join(i.content for i in items))
        return Stream()


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
