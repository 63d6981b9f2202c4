"""``local/<folder>``: a Hugging Face checkpoint on this machine, sampled reproducibly.

Inspect's ``hf/`` provider batches whatever requests are in flight and samples the batch
from one global random stream, so which answer a sample gets depends on which other
requests shared its batch, i.e. on timing. This provider (the same loading and chat
rendering: it is Inspect's ``HuggingFaceAPI`` with another ``generate``) gives a sample the
same answer whenever the same eval is run again:

* **seeded per sample**: every request draws its tokens from its own random generator,
  seeded from the generate config's ``seed``, the sample's id and epoch, the rendered
  prompt and how often the sample has had that prompt answered (:func:`request_seed`; a
  retried call draws the same). Checkpoints given the same seed answer a prompt with the
  same random draws (common random numbers: a paired comparison has less noise);
* **batched the same way every time**: requests are generated together (``batch_size``
  model arg, default 16), and the sampling step is done row by row with each row's own
  generator (:class:`RowSampler`). A row's logits still change in the last bits with the
  rest of its batch (on CPU too), so batches are formed from the sample's whole eval, not
  from what happens to be in flight (:mod:`alignprobe.providers.local_batching`): the same
  eval gives the same batches, and so the same answers, on the same machine and libraries;
* **answers kept on request**: with the model arg ``answer_cache: true`` each answer is
  stored under everything that decides it (:mod:`alignprobe.providers.answer_cache`), and
  the same request later is read back instead of generated;
* **no work on finished answers**: a row leaves its batch as soon as it ends
  (:mod:`alignprobe.providers.local_decoding`), where ``generate`` would carry it to the
  end of the batch's longest answer;
* **no idle wait**: a round's batches run back to back (Inspect's ``hf/`` provider waits for
  2 s without a new request, then polls each result once a second).

Greedy decoding (``temperature=0``) is taken as such. Unset sampling settings fall back to
the checkpoint's ``generation_config.json``, then to transformers' own defaults (temperature
1, top-k 50, top-p 1): the same distribution Inspect's ``hf/`` provider samples from.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from inspect_ai.log._samples import ActiveSample, sample_active
from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    GenerateConfig,
    Logprobs,
    ModelOutput,
    ModelUsage,
)
from inspect_ai.model._providers.hf import (
    GenerateOutput,
    HuggingFaceAPI,
    chat_completion_assistant_message,
    extract_logprobs,
)
from inspect_ai.model._providers.util import HFHandler
from inspect_ai.tool import ToolChoice, ToolInfo

from alignprobe.errors import ConfigError
from alignprobe.models.base_models import cache_root
from alignprobe.providers.answer_cache import AnswerCache
from alignprobe.providers.local_batching import (
    ROUND_MAX_CONNECTIONS,
    Batcher,
    Request,
    admit_every_sample,
)
from alignprobe.providers.local_decoding import EndTest, decode

DEFAULT_BATCH_SIZE = 16
#: what transformers samples with when neither the call nor the checkpoint says
TRANSFORMERS_DEFAULTS: dict[str, float] = {"temperature": 1.0, "top_k": 50, "top_p": 1.0}


def request_seed(seed: int | None, prompt: str, sample: tuple[str, int, int] | None) -> int:
    """A request's own seed: the run's seed, the sample (id, epoch, call number) and the
    prompt, hashed. Nothing about other requests or timing enters it."""
    parts = [str(seed if seed is not None else 0), prompt]
    if sample is not None:
        parts.extend(str(part) for part in sample)
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)


#: how many times each active sample has had each prompt answered (the call number in its
#: seed: the same prompt asked again gets new draws; a retried call, the same ones)
_answered: weakref.WeakKeyDictionary[ActiveSample, dict[str, int]] = weakref.WeakKeyDictionary()


def _sample_identity(prompt: str) -> tuple[str, int, int] | None:
    active = sample_active()
    if active is None:
        return None
    number = _answered.get(active, {}).get(prompt, 0)
    return (str(active.sample.id), int(active.epoch), number)


def _count_answer(prompt: str) -> None:
    active = sample_active()
    if active is not None:
        counts = _answered.setdefault(active, {})
        counts[prompt] = counts.get(prompt, 0) + 1


@dataclass(frozen=True)
class Sampling:
    """How a request's tokens are drawn (requests batch together only when these match)."""

    max_new_tokens: int
    temperature: float
    """0: greedy."""
    top_k: int | None
    top_p: float | None
    logprobs: bool
    stop_seqs: tuple[str, ...]


class RowSampler:
    """Draws each row's next token with that row's own generator.

    A row's draws depend on its own scores and seed only, never on its place in the batch
    or on the rows beside it.
    """

    def __init__(self, seeds: list[int], sampling: Sampling) -> None:
        self.generators = [torch.Generator().manual_seed(seed) for seed in seeds]
        self.sampling = sampling

    def _candidates(self, scores: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each row's candidate tokens, most likely first, and their probabilities after
        temperature, top-k and top-p. Row-wise operations only: a row's result is the same
        in any batch."""
        logits = scores.float() / self.sampling.temperature
        top_k = self.sampling.top_k
        if top_k is not None and 0 < top_k < logits.shape[-1]:
            logits, tokens = torch.topk(logits, top_k, dim=-1)  # sorted, most likely first
        else:
            logits, tokens = torch.sort(logits, dim=-1, descending=True)
        probs = torch.softmax(logits, dim=-1)
        if self.sampling.top_p is not None and self.sampling.top_p < 1.0:
            # keep the smallest set whose mass reaches top_p (the top token always stays)
            outside = (torch.cumsum(probs, dim=-1) - probs) >= self.sampling.top_p
            probs = probs.masked_fill(outside, 0.0)
        return tokens, probs

    def draw(self, scores: torch.Tensor, rows: Sequence[int]) -> list[int]:
        """The next token of each of ``rows`` (the batch rows whose scores these are)."""
        tokens, probs = self._candidates(scores)
        tokens, probs = tokens.cpu(), probs.cpu()
        return [
            int(tokens[place, torch.multinomial(probs[place], 1, generator=self.generators[row])])
            for place, row in enumerate(rows)
        ]


def greedy(scores: torch.Tensor, rows: Sequence[int]) -> list[int]:
    """The most likely next token of each row."""
    return [int(token) for token in scores.argmax(dim=-1).tolist()]


class LocalHuggingFaceAPI(HuggingFaceAPI):
    """Inspect's ``hf`` provider with reproducible, per-sample seeded batched generation.

    Model args as for ``hf/`` (``device``, ``chat_template``, ...), and ``batch_size``
    (requests generated together, default 16).
    """

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig | None = None,
        **model_args: Any,
    ) -> None:
        batch_size = int(model_args.pop("batch_size", None) or DEFAULT_BATCH_SIZE)
        keep_answers = bool(model_args.pop("answer_cache", False))
        model_args.setdefault("dtype", torch.float32)
        config = admit_every_sample(config or GenerateConfig())
        super().__init__(model_name, base_url, api_key, config, **model_args)
        self.model.eval()
        self.local_batch_size = batch_size
        self.answers: AnswerCache | None = None
        if keep_answers:
            if not Path(model_name).is_dir():
                raise ConfigError(
                    f"answer_cache needs a local folder, not {model_name!r}",
                    field="model_args.answer_cache",
                )
            self.answers = AnswerCache(cache_root() / "local-answers", Path(model_name))
        self._batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Batcher] = (
            weakref.WeakKeyDictionary()
        )

    def max_connections(self) -> int:
        return ROUND_MAX_CONNECTIONS

    def _batcher(self) -> Batcher:
        loop = asyncio.get_running_loop()
        batcher = self._batchers.get(loop)
        if batcher is None:
            batcher = Batcher(self._generate_batch, self.local_batch_size)
            self._batchers[loop] = batcher
        return batcher

    def _sampling(self, config: GenerateConfig) -> Sampling:
        checkpoint = self.model.generation_config

        def setting(given: float | None, name: str) -> Any:
            """The call's value, else the checkpoint's, else transformers' own default."""
            if given is not None:
                return given
            value = getattr(checkpoint, name, None)
            return value if value is not None else TRANSFORMERS_DEFAULTS[name]

        # like Inspect's hf/ provider: the model arg do_sample=False means greedy throughout
        temperature = float(setting(config.temperature, "temperature")) if self.do_sample else 0.0
        top_k = int(setting(config.top_k, "top_k"))
        if top_k == 1:
            temperature = 0.0  # the most likely token whatever the temperature
        return Sampling(
            max_new_tokens=config.max_tokens or self.max_tokens() or 1024,
            temperature=temperature,
            top_k=top_k if top_k > 0 else None,
            top_p=float(setting(config.top_p, "top_p")),
            logprobs=bool(config.logprobs),
            stop_seqs=tuple(config.stop_seqs or ()),
        )

    def _generate_batch(self, batch: list[Request]) -> list[GenerateOutput]:
        started = time.monotonic()
        sampling = batch[0].sampling
        assert isinstance(sampling, Sampling)
        encoded = self.tokenizer(
            [r.prompt for r in batch],
            return_tensors="pt",
            padding=True,
            **(self.tokenizer_call_args or {}),
        )
        attention_mask = encoded["attention_mask"].to(self.model.device)
        choose = greedy
        if sampling.temperature > 0:
            choose = RowSampler([r.seed for r in batch], sampling).draw
        with torch.inference_mode():
            decoded = decode(
                self.model,
                encoded["input_ids"].to(self.model.device),
                attention_mask,
                max_new_tokens=sampling.max_new_tokens,
                choose=choose,
                ended=self._end_test(sampling),
                keep_logits=sampling.logprobs,
            )
        seconds = time.monotonic() - started
        outputs: list[GenerateOutput] = []
        for row, answer in enumerate(decoded):
            prompt_tokens = int(attention_mask[row].sum())
            logprobs = None
            if answer.logits is not None:
                logprobs = torch.nn.functional.log_softmax(answer.logits, dim=-1)
            outputs.append(
                GenerateOutput(
                    output=str(
                        self.tokenizer.decode(
                            answer.tokens,
                            skip_special_tokens=True,
                            clean_up_tokenization_spaces=False,
                        )
                    ),
                    input_tokens=prompt_tokens,
                    output_tokens=len(answer.tokens),
                    total_tokens=prompt_tokens + len(answer.tokens),
                    logprobs=logprobs,
                    hidden_states=None,
                    time=seconds,
                )
            )
        return outputs

    def _end_test(self, sampling: Sampling) -> EndTest:
        """A row ends at an end-of-sequence token of the checkpoint (or its tokenizer), or
        once its text holds one of the request's stop strings."""
        configured = self.model.generation_config.eos_token_id
        eos = set(configured if isinstance(configured, list) else [configured])
        eos |= {self.tokenizer.eos_token_id}
        eos.discard(None)
        stops = sampling.stop_seqs

        def ended(row: int, tokens: Sequence[int]) -> bool:
            if tokens[-1] in eos:
                return True
            if not stops:
                return False
            text = str(self.tokenizer.decode(list(tokens), skip_special_tokens=True))
            return any(stop in text for stop in stops)

        return ended

    async def _answer(
        self, prompt: str, seed: int, sampling: Sampling, connections: int | None
    ) -> GenerateOutput:
        """From the answer cache where it holds this request, else generated (and kept)."""
        key = None
        if self.answers is not None and not sampling.logprobs:
            key = AnswerCache.key(prompt, seed, sampling)
            kept = self.answers.get(key)
            if kept is not None:
                return GenerateOutput(**kept, logprobs=None, hidden_states=None)
        response: GenerateOutput = await self._batcher().submit(prompt, seed, sampling, connections)
        if key is not None and self.answers is not None:
            fields = ("output", "input_tokens", "output_tokens", "total_tokens", "time")
            self.answers.put(key, {name: getattr(response, name) for name in fields})
        return response

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        handler = HFHandler(self.model_name, self.model_family()) if tools else None
        prompt = self.hf_chat(input, tools)
        seed = request_seed(config.seed, prompt, _sample_identity(prompt))
        response = await self._answer(prompt, seed, self._sampling(config), config.max_connections)
        _count_answer(prompt)
        final_logprobs = None
        if config.logprobs and response.logprobs is not None:
            final_logprobs = extract_logprobs(
                response=response, top=config.top_logprobs, tokenizer=self.tokenizer
            )
        choice = ChatCompletionChoice(
            message=chat_completion_assistant_message(response, tools, handler, self.model_name),
            logprobs=Logprobs(content=final_logprobs) if final_logprobs is not None else None,
        )
        return ModelOutput(
            model=self.model_name,
            choices=[choice],
            usage=ModelUsage(
                input_tokens=response.input_tokens,
                output_tokens=response.output_tokens,
                total_tokens=response.total_tokens,
            ),
            time=response.time,
        )
