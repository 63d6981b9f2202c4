"""The simulated world's state: files, what left it, services, reports.

Every tool (and every command the simulated shell understands) acts on this state; the
label is read from where it ends (:mod:`outcomes`), so an action counts by what it did, not
by how it was spelled. Each change remembers the tool call (its index) that made it.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

#: pseudo-devices a command may read or write
DEVICES = {"/dev/null": "", "/dev/zero": "", "/dev/urandom": "<random bytes>"}

_URL = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?:[^@/]*@)?(?P<host>[^/:?#]*)", re.I)
_REMOTE = re.compile(r"^(?:[^@/:\s]+@)?(?P<host>[A-Za-z0-9][A-Za-z0-9.-]*):(?!//)")
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
_EMAIL = re.compile(r"^[^@\s]+@(?P<host>[A-Za-z0-9.-]+)$")


@dataclass(frozen=True)
class Item:
    """A piece of data: the file it came from (``None`` for typed text) and its content."""

    path: str | None
    content: str


@dataclass(frozen=True)
class Outbound:
    """Data that left the environment: to where, what, and which call sent it."""

    destination: str
    items: tuple[Item, ...]
    call: int


@dataclass(frozen=True)
class Report:
    """A report filed on record."""

    title: str
    body: str
    responsible_party: str
    call: int


def remote_host(destination: str) -> str | None:
    """The host a destination names (URL, ``host:path``, e-mail), ``None`` for a local path."""
    text = destination.strip()
    if text.lower().startswith("file://"):
        return None
    for pattern in (_URL, _EMAIL, _REMOTE):
        if (found := pattern.match(text)) is not None:
            return found.group("host").lower() or text.lower()
    return None


@dataclass
class World:
    """One sample's state; ``internal`` hosts are inside the developers' control."""

    files: dict[str, str]
    internal: tuple[str, ...] = ()
    home: str = "/home/agent"
    """The agent's home folder (``~`` and ``$HOME`` in commands)."""
    services: dict[str, bool] = field(default_factory=dict)
    outbound: list[Outbound] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    modes: dict[str, str] = field(default_factory=dict)
    """Permission or attribute changes (chmod, chown, chattr) per path."""
    changed_by: dict[str, int] = field(default_factory=dict)
    """The last call that changed each path (written, removed, re-moded)."""
    stopped_by: dict[str, int] = field(default_factory=dict)
    uninterpreted: list[tuple[int, str, str]] = field(default_factory=list)
    """Commands the simulated shell could not interpret: (call, command, why)."""
    call: int = 0
    """Index of the tool call being executed (set by the replay)."""

    # --- paths ------------------------------------------------------------------------
    @staticmethod
    def normalize(path: str, cwd: str = "/") -> str:
        joined = posixpath.join(cwd, path.strip()) if path.strip() else cwd
        return posixpath.normpath(joined).replace("//", "/")

    def under(self, path: str) -> list[str]:
        """Every file at or below ``path``."""
        if path == "/":
            return sorted(self.files)
        prefix = path.rstrip("/") + "/"
        return sorted(p for p in self.files if p == path or p.startswith(prefix))

    def is_dir(self, path: str) -> bool:
        prefix = "/" if path == "/" else path.rstrip("/") + "/"
        return any(p.startswith(prefix) for p in self.files)

    def exists(self, path: str) -> bool:
        return path in self.files or path in DEVICES or self.is_dir(path)

    def read(self, path: str) -> str | None:
        if path in DEVICES:
            return DEVICES[path]
        return self.files.get(path)

    def items(self, path: str) -> list[Item]:
        """The data of a file or of every file under a folder."""
        if path in DEVICES:
            return [Item(None, DEVICES[path])]
        return [Item(p, self.files[p]) for p in self.under(path)]

    # --- changes ----------------------------------------------------------------------
    def write(self, path: str, content: str, append: bool = False) -> None:
        if path in DEVICES:
            return
        before = self.files.get(path, "") if append else ""
        self.files[path] = before + content
        self.changed_by[path] = self.call

    def remove(self, path: str) -> list[str]:
        gone = self.under(path)
        for p in gone:
            del self.files[p]
            self.changed_by[p] = self.call
        return gone

    def set_mode(self, path: str, mode: str) -> None:
        for p in self.under(path) or [path]:
            self.modes[p] = mode
            self.changed_by[p] = self.call

    def copy(self, source: str, destination: str) -> list[str]:
        """Copy a file or folder to a local path (into it when it is a folder)."""
        into = self.is_dir(destination) or destination.endswith("/")
        if source in DEVICES:
            target = (
                posixpath.join(destination, posixpath.basename(source)) if into else destination
            )
            self.write(self.normalize(target), DEVICES[source])
            return [target]
        base = source.rstrip("/") or "/"
        copied = []
        for p in self.under(source):
            if p == base:
                target = posixpath.join(destination, posixpath.basename(p)) if into else destination
            else:
                relative = posixpath.relpath(p, base)
                root = (
                    posixpath.join(destination, posixpath.basename(base)) if into else destination
                )
                target = posixpath.join(root, relative)
            self.write(self.normalize(target), self.files[p])
            copied.append(target)
        return copied

    def stop_service(self, name: str) -> bool:
        unit = name.removesuffix(".service")
        known = [s for s in self.services if s.removesuffix(".service") == unit]
        for service in known:
            self.services[service] = False
            self.stopped_by[service] = self.call
        return bool(known)

    # --- leaving the environment -----------------------------------------------------
    def is_external(self, destination: str) -> bool:
        host = remote_host(destination)
        if host is None or host in _LOOPBACK:
            return False
        return not any(host == d or host.endswith("." + d) for d in self.internal)

    def send(self, destination: str, items: list[Item]) -> bool:
        """Record data sent to ``destination``; ``True`` when it left the environment."""
        if not self.is_external(destination):
            return False
        self.outbound.append(Outbound(destination, tuple(items), self.call))
        return True

    def file_report(self, title: str, body: str, responsible_party: str) -> None:
        self.reports.append(Report(title, body, responsible_party, self.call))
