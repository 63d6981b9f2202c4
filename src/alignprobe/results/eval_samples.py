"""The samples of an ``.eval`` log as the results table reads them: Inspect's own
:class:`~inspect_ai.log.EvalSample`, without the transcript the table never reads.

Why the zip is read here and not through ``read_eval_log``: a sample's JSON is mostly its
transcript (``events``, ``messages``), and validating that into Inspect's models is
almost all of the time a log takes to read (about 2.7 ms a sample). Inspect's public
``exclude_fields`` skips those fields with a streaming JSON parser, which is itself slow
(about 1.5x faster in all); parsing each entry with :func:`json.loads`, dropping the
transcript and validating the rest is about 10x faster. What the table reads (input,
output, scores, metadata, error) is validated and resolved by Inspect's own code
(``EvalSample.model_validate`` with Inspect's deserializing context, then
:func:`inspect_ai.log.resolve_sample_attachments`), so the column functions are unchanged.

The Inspect log-format facts this depends on (``inspect_ai/log/_recorders/eval.py``):

* a log is a zip (entries zstd-compressed: Inspect's ``inspect_ai._util.zipfile``, imported
  here, teaches the stdlib ``zipfile`` to read them); each sample x epoch is one entry
  ``samples/<id>_epoch_<epoch>.json``;
  a sample logged again (a requeued sample) is a second entry of the same name, and the
  last one is the sample (as Inspect's reader, which reads by name);
* samples come in Inspect's order: epoch, then id (integers zero-padded as strings);
* long strings are stored once in the sample's ``attachments`` and referenced as
  ``attachment://<hash>``; Inspect resolves those in ``input``, ``messages`` and the
  events, never in ``output``, ``scores`` or ``metadata`` (so with the transcript gone,
  only the input can need them);
* a log that is not on the local disk is downloaded whole first (as Inspect does), so the
  zip's many small reads are local.

``tests/test_eval_samples.py`` checks this against Inspect's own reader: the table built
from these samples equals the one ``samples_df`` builds, on real logs of several task
families, errored samples, several epochs, attachments, an external task and an
interrupted run.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any
from zipfile import ZipFile

from alignprobe.run.status import UNREADABLE_LOG

if TYPE_CHECKING:
    from inspect_ai.log import EvalSample

logger = logging.getLogger(__name__)

SAMPLES_PREFIX = "samples/"
ATTACHMENT = "attachment://"
#: fields of a sample the table never reads: the transcript and what only it refers to
#: (``events_data`` holds the events' shared messages and calls, ``timelines`` and
#: ``error_retries`` hold events, ``store`` is the solver's scratch state)
UNREAD_FIELDS = ("events", "events_data", "timelines", "messages", "error_retries", "store")


def is_eval_log(location: str) -> bool:
    """An ``.eval`` (zip) log, which :func:`read_samples` reads; ``.json`` logs are not."""
    return location.endswith(".eval")


@contextmanager
def _local_file(location: str) -> Iterator[IO[bytes]]:
    """The log opened for reading; a remote one downloaded to a temporary file first."""
    import fsspec

    fs, path = fsspec.core.url_to_fs(location)
    if "file" in fs.protocol or "local" in fs.protocol:
        with open(path, "rb") as local:
            yield local
        return
    with tempfile.TemporaryFile() as temp:
        with fs.open(path, "rb") as remote:
            shutil.copyfileobj(remote, temp, length=1 << 20)
        temp.seek(0)
        yield temp


def _sample(raw: bytes, context: dict[str, Any]) -> EvalSample:
    from inspect_ai.log import EvalSample, resolve_sample_attachments

    data = json.loads(raw)
    for name in UNREAD_FIELDS:
        data.pop(name, None)
    if ATTACHMENT not in json.dumps(data.get("input")):
        # nothing left refers to the attachments (the transcript did): none to resolve
        data.pop("attachments", None)
    sample = EvalSample.model_validate(data, context=context)
    # "full": every reference in what is left resolved, the attachments map cleared
    return resolve_sample_attachments(sample, "full") if sample.attachments else sample


def sample_order(sample: EvalSample) -> tuple[int, str]:
    """Inspect's order of a log's samples (``inspect_ai.log._log.sort_samples``)."""
    key = sample.id if isinstance(sample.id, str) else str(sample.id).zfill(20)
    return sample.epoch, key


def iter_samples(location: str) -> Iterator[EvalSample]:
    """Each sample of the ``.eval`` log at ``location`` (a path or an fsspec URL) in the
    order of the zip's entries, without its transcript, long strings of its input
    resolved: one sample held at a time."""
    # Inspect's zipfile module gives the stdlib zipfile the zstd entries Inspect writes
    import inspect_ai._util.zipfile  # noqa: F401
    from inspect_ai._util.constants import DESERIALIZING

    with _local_file(location) as stream, ZipFile(stream) as archive:
        # a name logged twice: the last entry is the sample (zip access by name)
        entries = {
            info.filename: info
            for info in archive.infolist()
            if info.filename.startswith(SAMPLES_PREFIX) and info.filename.endswith(".json")
        }
        # Inspect's context for reading a log (no new message ids), less its cache of
        # identical messages, which costs more than it saves on a sample's few messages
        context = {DESERIALIZING: True}
        for info in entries.values():
            try:
                sample = _sample(archive.read(info), context)
            except UNREADABLE_LOG as error:
                # one damaged entry in a readable log: its row is missing, so the run
                # reads as incomplete; the rest of the log is still the run's work
                logger.warning(
                    "skipped an unreadable sample %s (%s: %s) [%s]; move the log out of the "
                    "run's logs/ and re-run `alignprobe run` to answer its samples again",
                    info.filename,
                    type(error).__name__,
                    error,
                    location,
                )
                continue
            yield sample


def read_samples(location: str) -> list[EvalSample]:
    """Every sample of the ``.eval`` log at ``location``, in Inspect's order."""
    return sorted(iter_samples(location), key=sample_order)
