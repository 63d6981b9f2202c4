"""Resolve a user-given data location (built-in name, local path or URL) to a local file.

URLs are downloaded once into the cache folder (``$ALIGNPROBE_CACHE`` or
``~/.cache/alignprobe``) and reused afterwards; third-party data is never shipped with
the package, only fetched from where its owners publish it.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from alignprobe.errors import DataError
from alignprobe.progress import counted, step

_URL_SCHEMES = ("http", "https")
_TIMEOUT_S = 60
#: file suffixes read as JSON Lines rows
JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
_DATA_SUFFIXES = (".yaml", ".yml", *JSONL_SUFFIXES)


def cache_dir() -> Path:
    """Folder for downloaded data (created on demand)."""
    root = os.environ.get("ALIGNPROBE_CACHE") or Path.home() / ".cache" / "alignprobe"
    path = Path(root) / "downloads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def is_url(location: str) -> bool:
    return urlparse(location).scheme in _URL_SCHEMES


def cached_path_for(url: str) -> Path:
    """Where ``url`` is (or will be) cached: a hash keeps distinct URLs apart."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    name = Path(urlparse(url).path).name or "download"
    return cache_dir() / f"{digest}-{name}"


def fetch(location: str | Path) -> Path:
    """Return a local path for ``location``; download URLs once, atomically."""
    text = str(location)
    if not is_url(text):
        path = Path(text).expanduser()
        if not path.exists():
            raise DataError("file not found", source=path)
        return path
    target = cached_path_for(text)
    if target.exists():
        return target
    partial = target.with_suffix(target.suffix + ".partial")
    try:
        with urllib.request.urlopen(text, timeout=_TIMEOUT_S) as response:
            _download(response, partial, text)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise DataError(f"could not download: {exc}", source=text) from None
    partial.replace(target)  # never leave a half-written file under the final name
    return target


def _download(response: Any, partial: Path, url: str) -> None:
    """Copy the response to ``partial`` in chunks, with progress when its size is known."""
    size = int(response.headers.get("Content-Length") or 0)
    chunk = 1 << 16
    with partial.open("wb") as out:
        if not size:
            with step(f"downloading {url}"):
                out.write(response.read())
            return
        with counted(f"downloading {url}", max(1, size // 1024), unit="KiB") as advance:
            while data := response.read(chunk):
                out.write(data)
                advance(len(data) // 1024)


def file_sha256(path: Path) -> str:
    """The short content hash a task records for a data file it read."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


@dataclass(frozen=True)
class BuiltinData:
    """A family's data sets of one kind: the files shipped in ``package/folder``, or a
    path or URL of a file the family can read.

    ``what`` names the kind ("question set"), ``field`` the task parameter that takes it,
    and ``accepts`` which files work ("a path or URL of an S-IFEval JSONL file"), so an
    unknown name gets a message that says what would have worked.
    """

    package: str
    folder: str
    what: str
    field: str
    accepts: str
    suffix: str = ".yaml"

    def names(self) -> list[str]:
        """The built-in sets' names."""
        return builtin_names(self.package, self.folder, self.suffix)

    def file(self, location: str) -> Path:
        """A built-in set name, a local path or an http(s) URL -> a local file."""
        return resolve_data(
            location,
            package=self.package,
            folder=self.folder,
            what=self.what,
            field=self.field,
            accepts=self.accepts,
            suffix=self.suffix,
        )


def builtin_names(package: str, folder: str, suffix: str = ".yaml") -> list[str]:
    """Names of the data files shipped in ``package/folder`` (without the suffix)."""
    root = resources.files(package) / folder
    return sorted(p.name.removesuffix(suffix) for p in root.iterdir() if p.name.endswith(suffix))


def resolve_data(
    location: str,
    *,
    package: str,
    folder: str,
    what: str,
    field: str,
    accepts: str,
    suffix: str = ".yaml",
) -> Path:
    """A built-in data set name, a local path or an http(s) URL -> a local file.

    ``what`` names the kind of data ("question set") and ``accepts`` says which files
    work ("a path or URL of an S-IFEval JSONL file"), so an unknown name gets a message
    that says what would have worked.
    """
    names = builtin_names(package, folder, suffix)
    if location in names:
        return Path(str(resources.files(package) / folder / f"{location}{suffix}"))
    looks_like_file = "/" in location or location.endswith(_DATA_SUFFIXES)
    if not looks_like_file:
        raise DataError(
            f"unknown {what} '{location}': give a built-in one ({', '.join(names)}) or {accepts}",
            field=field,
        )
    return fetch(location)
