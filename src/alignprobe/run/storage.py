"""Run folders on shared storage: a local path or an fsspec URL (``s3://bucket/run``, ...).

Inspect writes and reads its logs at any fsspec URL itself; this module handles the rest
of a run folder there:

* :class:`RunStore`: the run's small JSON records (``manifest.json``, one record per
  shard), written whole in one put (a rename on local disk) so a reader never sees half;
* :func:`local_copy`: the later stages (``table``, ``compare``, ``gate``) read a remote run
  from a local mirror of its records and logs, downloading only what changed since the
  last mirror (so re-reading a large run costs a listing); their own outputs are built
  locally and :func:`publish` puts them back beside the logs.

Credentials and endpoints come from the storage's own configuration (for S3 the usual
``AWS_*`` variables, ``AWS_ENDPOINT_URL`` for an S3-compatible server), never from
alignprobe's files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import fsspec
from fsspec import AbstractFileSystem

from alignprobe.errors import DataError, UserInputError

#: the mirror's record of what it holds: relative path -> the remote file's version
_MIRROR_INDEX = ".alignprobe-mirror.json"
#: files a mirror copies; the table's own outputs are rebuilt locally from the logs
_MIRRORED_SUFFIXES = (".eval", ".json")
_NOT_MIRRORED = {"samples.parquet", "samples.csv", "measures.json", "run_status.json"}


def is_remote(location: str | Path) -> bool:
    """An fsspec URL other than a local ``file://`` one."""
    text = str(location)
    return "://" in text and not text.startswith("file://")


def join(location: str, *parts: str) -> str:
    """``location/part/...`` for a local path or a URL."""
    return "/".join([location.rstrip("/"), *parts])


def _filesystem(url: str) -> tuple[AbstractFileSystem, str]:
    try:
        # listings are not cached: other machines write into the same folder meanwhile
        fs, path = fsspec.core.url_to_fs(url, use_listings_cache=False, skip_instance_cache=True)
    except (ImportError, ValueError) as exc:
        raise UserInputError(f"cannot open {url}: {exc}", field="--out") from None
    return fs, str(path)


class RunStore:
    """The records of one run folder, local or remote."""

    def __init__(self, location: str | Path) -> None:
        self.location = str(location).rstrip("/") or str(location)
        self.remote = is_remote(self.location)
        if self.remote:
            self.fs, self.root = _filesystem(self.location)
        else:
            self.fs, self.root = fsspec.filesystem("file"), str(Path(location).absolute())

    def url(self, *parts: str) -> str:
        """Where a file of the run lives, as the user would write it."""
        return join(self.location, *parts)

    def _path(self, *parts: str) -> str:
        return join(self.root, *parts)

    @contextmanager
    def _reaching(self, what: str, *parts: str) -> Iterator[None]:
        """A store that cannot be reached (no bucket, no credentials, no server) is one
        error line naming the URL, not a traceback."""
        try:
            yield
        except UserInputError:
            raise
        except Exception as exc:  # botocore, aiohttp, OSError...
            raise DataError(
                f"cannot {what}: {type(exc).__name__}: {exc}", source=self.url(*parts)
            ) from None

    def exists(self) -> bool:
        with self._reaching("read the run folder"):
            return bool(self.fs.isdir(self.root))

    def read_json(self, *parts: str) -> dict[str, Any] | None:
        """A JSON record of the run, ``None`` if absent; invalid JSON names the file."""
        path = self._path(*parts)
        with self._reaching("read", *parts):
            if not self.fs.isfile(path):
                return None
            text = self.fs.cat_file(path).decode("utf-8")
        try:
            record: dict[str, Any] = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"invalid JSON: {exc.msg}", source=self.url(*parts), line=exc.lineno
            ) from None
        return record

    def write_json(self, data: dict[str, Any], *parts: str) -> None:
        """Write a record whole: one put to object storage, a rename on local disk."""
        text = json.dumps(data, indent=2, default=str) + "\n"
        if not self.remote:
            path = Path(self._path(*parts))
            path.parent.mkdir(parents=True, exist_ok=True)
            # a name of its own: shards on one file system write the same manifest at once
            partial = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial")
            partial.write_text(text, encoding="utf-8")
            os.replace(partial, path)
            return
        with self._reaching("write", *parts):
            self.fs.pipe_file(self._path(*parts), text.encode("utf-8"))

    def set_aside(self, location: str, *folder: str) -> str:
        """Move a file of the run (``location`` as Inspect lists it) into ``folder`` of
        the run, kept, not deleted; where it now is."""
        name = location.rstrip("/").rsplit("/", 1)[-1]
        with self._reaching("move", *folder, name):
            self.fs.makedirs(self._path(*folder), exist_ok=True)
            self.fs.mv(fsspec.core.strip_protocol(location), self._path(*folder, name))
        return self.url(*folder, name)

    def has_logs(self, *parts: str) -> bool:
        """Does the folder (any depth) hold an Inspect log?"""
        folder = self._path(*parts)
        with self._reaching("read", *parts):
            if not self.fs.isdir(folder):
                return False
            return any(str(p).endswith(".eval") for p in self.fs.find(folder))


def _version(info: dict[str, Any]) -> str:
    """What identifies one version of a remote file (its ETag where the store has one)."""
    for key in ("ETag", "etag", "md5", "mtime", "LastModified", "last_modified", "created"):
        if info.get(key) is not None:
            return f"{info.get('size')}:{info[key]}"
    return str(info.get("size"))


def mirror_root() -> Path:
    root = os.environ.get("ALIGNPROBE_CACHE") or Path.home() / ".cache" / "alignprobe"
    return Path(root) / "remote"


def mirror_dir(url: str) -> Path:
    """``<cache>/remote/<scheme>/<bucket>/<path>-<hash>``: readable, and the run's name kept."""
    scheme, _, rest = url.partition("://")
    parts = [p for p in rest.rstrip("/").split("/") if p not in ("", ".", "..")]
    digest = hashlib.sha256(url.rstrip("/").encode()).hexdigest()[:8]
    return mirror_root().joinpath(scheme, digest, *parts)


#: local mirror -> the URL it mirrors (outputs of a command go back there)
_ORIGINS: dict[Path, str] = {}


def remote_origin(local: Path) -> str | None:
    """The URL a folder returned by :func:`local_copy` mirrors, ``None`` for a local one."""
    return _ORIGINS.get(local)


def local_copy(url: str) -> Path:
    """Mirror the remote run folder ``url`` (records and logs) and return the local folder.

    Files that changed remotely are downloaded again; files gone remotely are removed
    locally, so the mirror is what the store holds now. A store that cannot be read
    (no such bucket, no credentials, no server) is one error line naming the URL.
    """
    try:
        local = _mirror(url)
    except UserInputError:
        raise
    except Exception as exc:  # botocore, aiohttp, OSError...: one line, not a traceback
        raise DataError(
            f"cannot read the run folder: {type(exc).__name__}: {exc}", source=url
        ) from None
    _ORIGINS[local] = url
    return local


def _mirror(url: str) -> Path:
    fs, root = _filesystem(url)
    if not fs.isdir(root):
        raise DataError("no run folder there (nothing under this URL)", source=url)
    local = mirror_dir(url)
    local.mkdir(parents=True, exist_ok=True)
    index_path = local / _MIRROR_INDEX
    held: dict[str, str] = json.loads(index_path.read_text()) if index_path.is_file() else {}
    found: dict[str, str] = {}
    for path, info in fs.find(root, detail=True).items():
        relative = str(path)[len(root.rstrip("/")) + 1 :]
        name = relative.rsplit("/", 1)[-1]
        if not name.endswith(_MIRRORED_SUFFIXES) or name in _NOT_MIRRORED or ".." in relative:
            continue
        version = _version(info)
        found[relative] = version
        target = local / relative
        if held.get(relative) != version or not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            fs.get_file(path, str(target))
    for relative in set(held) - set(found):
        (local / relative).unlink(missing_ok=True)
    if found != held:  # the local table no longer describes the store: rebuild it
        for name in _NOT_MIRRORED:
            (local / name).unlink(missing_ok=True)
    index_path.write_text(json.dumps(found, indent=1, sort_keys=True))
    return local


def publish(paths: Iterable[Path], url: str) -> list[str]:
    """Upload files built locally for the remote run ``url`` beside its logs."""
    fs, root = _filesystem(url)
    out = []
    for path in paths:
        fs.put_file(str(path), join(root, path.name))
        out.append(join(url, path.name))
    return out


def upload_folder(local: Path, url: str) -> list[str]:
    """Upload every file under ``local`` to the folder ``url``, the manifest last (so a
    reader never finds a manifest whose logs are still on their way)."""
    fs, root = _filesystem(url)
    files = sorted(p for p in local.rglob("*") if p.is_file())
    files.sort(key=lambda p: p.name == "manifest.json")
    out = []
    try:
        for path in files:
            target = join(root, *path.relative_to(local).parts)
            fs.put_file(str(path), target)
            out.append(join(url, *path.relative_to(local).parts))
    except Exception as exc:  # botocore, aiohttp, OSError...: one line naming the URL
        raise DataError(f"cannot write: {type(exc).__name__}: {exc}", source=url) from None
    return out


def clear_mirror(url: str) -> None:
    """Forget a mirror (tests; a user may delete ``<cache>/remote`` at any time)."""
    shutil.rmtree(mirror_dir(url), ignore_errors=True)
