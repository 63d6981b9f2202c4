"""Batches for ``local/``: the same requests in the same batches every time, whatever the timing.

On CPU a row's logits change in the last bits with the batch around it (its size, the row's
place in it, the padding): a sampled token near a tie can then flip. So an answer is
reproducible only if its batch is. Requests are therefore batched in **rounds**:

* a request made inside an Inspect sample waits until every unfinished sample of its eval
  is waiting on a ``local/`` model too (Inspect's own count of the eval's samples says how
  many there are). That moment does not depend on timing: it is the same set of requests
  in every run;
* the round's requests are then sorted by their own content (prompt length, prompt, seed)
  and cut into batches of ``batch_size`` with the same sampling settings; a batch never
  mixes evals, so one task's batches do not depend on which others run beside it;
* the next round of the eval waits until this one is generated.

Where the count cannot be met the round starts anyway, batched as its requests arrived,
and a warning says so: an eval with more samples than may run at once (``max_samples`` or
``max_connections`` below its size), a resumed eval whose finished samples do not run
again, or a sample that waits on something else for long (:data:`GRACE_SECONDS`,
:data:`STALL_SECONDS`). Requests made outside a sample (a plain ``generate`` call) are
batched as they arrive.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

# Inspect's record of the running samples and of each eval's sample count (private modules,
# the only place Inspect keeps them)
from inspect_ai._control.eval_state import get_eval_state
from inspect_ai.log._samples import active_samples, sample_active
from inspect_ai.model import GenerateConfig

logger = logging.getLogger(__name__)

#: the default ``max_connections`` of a model batched in rounds: every sample of an eval may
#: wait at once (without a fixed limit Inspect admits samples adaptively, a few at a time)
ROUND_MAX_CONNECTIONS = 4096
#: how often waiting rounds are checked
POLL_SECONDS = 0.01
#: how long a batch of requests made outside a sample waits for more
JOIN_SECONDS = 0.05
#: a round whose running samples all wait, but whose eval counts more, starts after this
#: (long enough that a slow start of the eval's samples does not set it off)
GRACE_SECONDS = 5.0
#: a round that nothing has changed for this long starts whatever it waits for (a safety
#: net only: a sample busy elsewhere, e.g. in a slow tool call, comes back or finishes)
STALL_SECONDS = 60.0


def admit_every_sample(config: GenerateConfig) -> GenerateConfig:
    """``config`` (the model's own: Inspect hands the ``Model`` the same object), with
    :data:`ROUND_MAX_CONNECTIONS` where it sets no ``max_connections``."""
    if config.max_connections is None:
        config.max_connections = ROUND_MAX_CONNECTIONS
    return config


@dataclass(eq=False)
class Request:
    """One generate call waiting for its batch."""

    prompt: str
    seed: int
    sampling: Hashable
    future: asyncio.Future[Any]
    batcher: Batcher
    eval_id: str | None = None
    sample: str | None = None
    """The Inspect sample attempt that made the call."""
    connections: int | None = None
    """The call's ``max_connections``: no more requests than this can wait at once."""

    @property
    def order(self) -> tuple[int, str, int]:
        return (len(self.prompt), self.prompt, self.seed)


def form_batches(requests: list[Request], batch_size: int) -> list[list[Request]]:
    """Requests sorted by their own content, cut into batches of one sampling setting."""
    groups: dict[Hashable, list[Request]] = {}
    for request in sorted(requests, key=lambda r: r.order):
        groups.setdefault(request.sampling, []).append(request)
    return [
        group[start : start + batch_size]
        for group in groups.values()
        for start in range(0, len(group), batch_size)
    ]


@dataclass
class Batcher:
    """One model's queue: batches are generated one at a time, in the order formed."""

    run_batch: Callable[[list[Request]], list[Any]]
    batch_size: int
    batches: deque[list[Request]] = field(default_factory=deque)
    loose: list[Request] = field(default_factory=list)
    """Requests made outside a sample, batched by arrival."""
    in_flight: int = 0
    working: bool = False

    async def submit(
        self, prompt: str, seed: int, sampling: Hashable, connections: int | None
    ) -> Any:
        active = sample_active()
        request = Request(
            prompt,
            seed,
            sampling,
            asyncio.get_running_loop().create_future(),
            self,
            eval_id=active.eval_id if active is not None else None,
            sample=active.id if active is not None else None,
            connections=connections,
        )
        if active is not None:
            rounds().add(request)
        else:
            self.loose.append(request)
            self._wake()
        return await request.future

    def take(self, requests: list[Request]) -> None:
        """A round's requests of this model, to be generated."""
        self.batches.extend(form_batches(requests, self.batch_size))
        self._wake()

    def _wake(self) -> None:
        if not self.working:
            self.working = True
            asyncio.get_running_loop().create_task(self._work())

    async def _work(self) -> None:
        try:
            while self.batches or self.loose:
                if not self.batches:
                    if len(self.loose) < self.batch_size:
                        await asyncio.sleep(JOIN_SECONDS)  # let requests started together join
                    self.batches.extend(form_batches(self.loose, self.batch_size))
                    self.loose = []
                    continue
                await self._run(self.batches.popleft())
        finally:
            self.working = False

    async def _run(self, batch: list[Request]) -> None:
        live = [r for r in batch if not r.future.done()]  # a cancelled sample's call drops out
        self.in_flight = len(live)
        try:
            outputs = await asyncio.to_thread(self.run_batch, live) if live else []
        except Exception as ex:  # every request of the batch gets the error
            for request in live:
                if not request.future.done():
                    request.future.set_exception(ex)
        else:
            for request, output in zip(live, outputs, strict=True):
                if not request.future.done():
                    request.future.set_result(output)
        finally:
            self.in_flight = 0
            for request in batch:
                if request.eval_id is not None:
                    rounds().finished(request.eval_id)


class Rounds:
    """The requests of each eval waiting for their round, across every ``local/`` model."""

    def __init__(self) -> None:
        self.waiting: dict[str, list[Request]] = {}
        self.generating: dict[str, int] = {}
        self.changed: dict[str, tuple[float, int]] = {}
        """When the eval's waiting requests or finished samples last changed, and the latter."""
        self.by_arrival: set[str] = set()
        self.polling = False

    def add(self, request: Request) -> None:
        assert request.eval_id is not None
        self.waiting.setdefault(request.eval_id, []).append(request)
        self._touch(request.eval_id)
        if not self.polling:
            self.polling = True
            asyncio.get_running_loop().create_task(self._poll())

    def finished(self, eval_id: str) -> None:
        self.generating[eval_id] -= 1
        if self.generating[eval_id] == 0 and eval_id not in self.waiting:
            del self.generating[eval_id], self.changed[eval_id]  # until its next request
        else:
            self._touch(eval_id)

    def _touch(self, eval_id: str) -> None:
        self.changed[eval_id] = (time.monotonic(), _terminal(eval_id))

    async def _poll(self) -> None:
        try:
            while self.waiting:
                self.start_ready()
                await asyncio.sleep(POLL_SECONDS)
        finally:
            self.polling = False

    def start_ready(self) -> None:
        for eval_id in list(self.waiting):
            requests = [r for r in self.waiting[eval_id] if not r.future.done()]
            self.waiting[eval_id] = requests
            if not requests:
                del self.waiting[eval_id]
                continue
            why = self._why_start(eval_id, requests)
            if why is None:
                continue
            if why != "complete" and eval_id not in self.by_arrival:
                self.by_arrival.add(eval_id)
                logger.warning(
                    "local/: a round of %d request(s) started before every sample of its "
                    "eval was waiting (%s): its batches, and so its answers, may differ "
                    "from run to run",
                    len(requests),
                    why,
                )
            del self.waiting[eval_id]
            self.generating[eval_id] = self.generating.get(eval_id, 0) + len(requests)
            by_model: dict[int, list[Request]] = {}
            for request in requests:
                by_model.setdefault(id(request.batcher), []).append(request)
            for share in by_model.values():
                share[0].batcher.take(share)

    def _why_start(self, eval_id: str, requests: list[Request]) -> str | None:
        """``complete`` when the round is the eval's every unfinished sample; a reason to
        start it anyway; or ``None``: wait."""
        if self.generating.get(eval_id):
            return None
        samples = {r.sample for r in requests}
        state = get_eval_state(eval_id)
        if state is not None and len(samples) >= state.total - state.terminal:
            return "complete"
        since, terminal = self.changed[eval_id]
        if terminal != _terminal(eval_id):
            self._touch(eval_id)
            return None
        quiet = time.monotonic() - since
        batcher = requests[0].batcher
        limit = min((r.connections for r in requests if r.connections), default=None)
        if limit is not None and len(requests) + batcher.in_flight >= limit:
            return f"max_connections {limit} reached"
        running = {a.id for a in active_samples() if a.eval_id == eval_id and a.completed is None}
        if samples >= running and quiet >= GRACE_SECONDS:
            return "more samples than run at once, or samples that do not run again"
        if quiet >= STALL_SECONDS:
            return f"nothing changed for {STALL_SECONDS:.0f} s"
        return None


def _terminal(eval_id: str) -> int:
    state = get_eval_state(eval_id)
    return state.terminal if state is not None else 0


_rounds: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Rounds] = weakref.WeakKeyDictionary()


def rounds() -> Rounds:
    """This event loop's rounds (an eval runs on one loop)."""
    loop = asyncio.get_running_loop()
    found = _rounds.get(loop)
    if found is None:
        found = _rounds[loop] = Rounds()
    return found
