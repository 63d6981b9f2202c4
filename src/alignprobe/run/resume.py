"""May ``alignprobe run`` continue in this folder? Decided before anything is written.

Re-running the same command into a run folder finishes what is missing (Inspect's
``eval_set`` resumes its logs). Running a *different* plan into it would mix two
experiments in one folder and overwrite the record of the first, so it is refused with
what differs and what to do instead.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alignprobe.errors import ConfigError
from alignprobe.run.status import LOGS, MANIFEST
from alignprobe.run.storage import RunStore

#: manifest fields that define the experiment; the rest (versions, command, times) may change
_IDENTITY = (
    "plan_format", "suite", "checkpoints", "judge", "generate", "shards", "tasks", "until_decided",
)  # fmt: skip


def _identity(record: dict[str, Any]) -> dict[str, Any]:
    suite = record.get("suite") or {}
    return {
        "suite": {"name": suite.get("name"), "sha256": suite.get("sha256")},
        **{key: record.get(key) for key in _IDENTITY if key != "suite"},
    }


def _changed_names(old: dict[str, Any], new: dict[str, Any]) -> str:
    parts = []
    added, removed = sorted(set(new) - set(old)), sorted(set(old) - set(new))
    if added:
        parts.append("added " + ", ".join(added))
    if removed:
        parts.append("removed " + ", ".join(removed))
    for name in sorted(set(old) & set(new)):
        if old[name] != new[name]:
            fields = sorted(
                k for k in {*old[name], *new[name]} if old[name].get(k) != new[name].get(k)
            )
            parts.append(f"{name} ({', '.join(fields)})")
    return "; ".join(parts)


def _suite_change(before: dict[str, Any], after: dict[str, Any]) -> str:
    return (
        f"suite was {before['name']!r} (sha256 {str(before['sha256'])[:12]}), "
        f"now {after['name']!r} (sha256 {str(after['sha256'])[:12]})"
    )


def _shards_change(before: int | None, after: int | None) -> str:
    return (
        f"it was split into {before or 1} shard(s), now {after or 1} "
        f"(run every shard with the same --shard I/{before or 1})"
    )


#: identity field -> the phrase for its (earlier, now) values when they differ, in the order
#: the refusal lists them (``tasks`` is told only when nothing else differs)
_CHANGE_PHRASES: dict[str, Callable[[Any, Any], str]] = {
    "plan_format": lambda before, after: (
        f"it was planned by another alignprobe version (plan format {before or 1}, now {after})"
    ),
    "judge": lambda before, after: f"judge was {before!r}, now {after!r}",
    "suite": _suite_change,
    "checkpoints": lambda before, after: (
        f"checkpoints changed: {_changed_names(before or {}, after or {})}"
    ),
    "shards": _shards_change,
    "generate": lambda before, after: f"--generate was {before}, now {after}",
    "until_decided": lambda before, after: f"--until-decided plan was {before}, now {after}",
}


def describe_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What makes two manifests different experiments, one phrase per difference."""
    before, after = _identity(old), _identity(new)
    found = [
        phrase(before[field], after[field])
        for field, phrase in _CHANGE_PHRASES.items()
        if before[field] != after[field]
    ]
    if not found and before["tasks"] != after["tasks"]:
        found.append("the planned tasks or their generation settings changed")
    return found


def check_resumable(out: Path | RunStore, record: dict[str, Any]) -> dict[str, Any] | None:
    """The folder's earlier manifest if this run continues it, None for a new folder.

    ``out`` is a local folder or the store of one at an fsspec URL. Raises
    :class:`ConfigError` (exit 2, nothing written) when the folder holds another run or
    logs without a manifest, :class:`DataError` when its manifest is not valid JSON.
    """
    store = out if isinstance(out, RunStore) else RunStore(out)
    out_name = store.location
    if not store.exists():
        return None
    new_folder = "choose a new --out folder for a new run"
    earlier = store.read_json(MANIFEST)  # invalid JSON: DataError naming the file and line
    if earlier is None:
        if store.has_logs(LOGS):
            raise ConfigError(
                f"{store.url(LOGS)} already holds logs but there is no {MANIFEST}: not a run "
                f"alignprobe can resume; {new_folder}",
                field="--out",
            )
        return None
    differences = describe_differences(earlier, record)
    if differences:
        raise ConfigError(
            f"{out_name} holds another run, which this command would overwrite: "
            + "; ".join(differences)
            + ". Re-run with that run's arguments to finish it (its command is in "
            f"{store.url(MANIFEST)}), "
            f"or {new_folder}",
            field="--out",
        )
    return earlier
