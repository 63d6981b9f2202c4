"""Answers of the ``local/`` provider kept on disk, for a run that asks the same again.

A ``local/`` answer is a function of the weights, the library versions, the request's seed
(which carries the sample's identity), the rendered prompt and the sampling settings
(:mod:`alignprobe.providers.local`). With the model arg ``answer_cache: true`` the answers
are stored under exactly that key, so a second run of the same command (a new ``--out``, a
re-run after a crash) reads them instead of generating them again, and gets what it would
have generated. Nothing else is cached: requests that ask for logprobs are always
generated. One SQLite file per weights folder in ``$ALIGNPROBE_CACHE/local-answers/``
(default ``~/.cache/alignprobe``).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import asdict
from pathlib import Path
from typing import Any

#: bump when what a key means changes (the sampler, the seed, the decoding)
CACHE_VERSION = "3"


def weights_identity(folder: Path) -> str:
    """The folder's content: every file's name and bytes (weights, config, tokenizer,
    chat template), hashed, so a re-trained checkpoint in the same place is another key."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode("utf-8") + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                digest.update(block)
    return digest.hexdigest()


def library_versions() -> str:
    import torch
    import transformers

    return f"torch {torch.__version__}, transformers {transformers.__version__}"


class AnswerCache:
    """Answers keyed by everything that decides them; one table per weights folder."""

    def __init__(self, root: Path, folder: Path) -> None:
        self.identity = hashlib.sha256(
            "\n".join([CACHE_VERSION, weights_identity(folder), library_versions()]).encode()
        ).hexdigest()
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / f"{folder.name}-{self.identity[:16]}.sqlite"
        # check_same_thread: answers are written from the event loop, read there too
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        # a lost write is an answer generated again, never a wrong one: no fsync per answer
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, value TEXT)")
        self._db.commit()

    @staticmethod
    def key(prompt: str, seed: int, sampling: Any) -> str:
        parts = json.dumps([prompt, seed, asdict(sampling)], sort_keys=True, default=list)
        return hashlib.sha256(parts.encode("utf-8")).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT value FROM answers WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row is not None else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO answers (key, value) VALUES (?, ?)", (key, json.dumps(value))
        )
        self._db.commit()

    def close(self) -> None:
        self._db.close()
