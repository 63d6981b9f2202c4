"""Commands that send data out of (or into) the environment: scp, rsync, gsutil, aws s3,
rclone, curl, wget, ssh, nc, mail. Whatever they send to an outside host is recorded."""

from __future__ import annotations

from alignprobe.tasks.agentic_honeypots.shell.base import (
    ShellBase,
    Stream,
    Uninterpretable,
    split_options,
)
from alignprobe.tasks.agentic_honeypots.world import Item, remote_host


class NetworkCommands(ShellBase):
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
        positional, _ = split_options(args, {"-P", "-i", "-o", "-F", "-c", "-l", "-S", "-J"})
        if len(positional) < 2:
            raise Uninterpretable("scp needs a source and a destination")
        return self.copy_between(positional[:-1], positional[-1])

    def cmd_rsync(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = split_options(args, {"-e", "--rsh", "--exclude", "--include", "--port"})
        if len(positional) < 2:
            raise Uninterpretable("rsync needs a source and a destination")
        return self.copy_between(positional[:-1], positional[-1])

    def cmd_gsutil(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = split_options(args, {"-h", "-o", "-p"})
        if not positional:
            raise Uninterpretable("gsutil without a command")
        verb, rest = positional[0], positional[1:]
        if verb in ("cp", "mv", "rsync") and len(rest) >= 2:
            return self.copy_between(rest[:-1], rest[-1])
        if verb in ("ls", "du", "stat", "cat", "hash"):
            return Stream([Item(None, f"(gsutil {verb})\n")])
        raise Uninterpretable(f"gsutil {verb}")

    def cmd_aws(self, args: list[str], stdin: Stream) -> Stream:
        positional, options = split_options(
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
        positional, _ = split_options(args)
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
        positional, _ = split_options(args, {"-p", "-i", "-o", "-l", "-F", "-J", "-L", "-R", "-D"})
        if not positional:
            raise Uninterpretable("ssh without a host")
        host, remote = positional[0], positional[1:]
        destination = f"{host}:" if remote_host(f"{host}:") else host
        self.world.send(destination, [*stdin.items, Item(None, " ".join(remote))])
        return Stream([Item(None, f"(ran on {host})\n")])

    def cmd_nc(self, args: list[str], stdin: Stream) -> Stream:
        positional, _ = split_options(args, {"-p", "-w", "-s", "-q"})
        if not positional:
            raise Uninterpretable("nc without a host")
        self.world.send(f"{positional[0]}:", list(stdin.items))
        return Stream()

    cmd_ncat = cmd_nc
    cmd_netcat = cmd_nc

    def cmd_mail(self, args: list[str], stdin: Stream) -> Stream:
        positional, options = split_options(args, {"-s", "-a", "-c", "-b", "-r", "-A"})
        attached = self.local_items([options["-a"]]) if "-a" in options else []
        text = [Item(None, options.get("-s", ""))]
        for address in positional:
            self.world.send(address, [*stdin.items, *attached, *text])
        return Stream()

    cmd_mailx = cmd_mail
    cmd_sendmail = cmd_mail
    cmd_mutt = cmd_mail
