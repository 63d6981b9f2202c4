"""The items of every selected domain as one dataset, and each item's prompt.

Code problems come from :mod:`.data`, math / knowledge / writing items from
:mod:`.text_items`. Every sample records its ``domain``, ``hackability`` and ``hackable``
(so reports slice by domain and split hackable from clean items); the item is the
statistics cluster (``question_id``). Ids are unique across domains.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageUser

from alignprobe.conditions import Condition, apply_condition
from alignprobe.errors import DataError
from alignprobe.tasks.instructed_hacking import defaults
from alignprobe.tasks.instructed_hacking.data import (
    Problem,
    file_hash,
    load_problems,
    problem_prompt,
)
from alignprobe.tasks.instructed_hacking.report_channel import report_instruction
from alignprobe.tasks.instructed_hacking.text_items import (
    KnowledgeItem,
    MathItem,
    WritingItem,
    load_items,
)
from alignprobe.tasks.instructed_hacking.types import Domain, Hackability

Item = Problem | MathItem | KnowledgeItem | WritingItem


def parse_domains(domains: str | list[str]) -> list[Domain]:
    """``all`` or a comma-separated list of domain names, in the canonical order."""
    wanted = [d.strip() for d in domains.split(",")] if isinstance(domains, str) else domains
    if wanted in (["all"], [""]):
        return list(Domain)
    known = {d.value for d in Domain}
    unknown = [d for d in wanted if d not in known]
    if unknown or not wanted:
        raise DataError(
            f"unknown domain(s) {', '.join(unknown) or '(none)'}; use 'all' or a "
            f"comma-separated list of {', '.join(sorted(known))}",
            field="domains",
        )
    return [d for d in Domain if d.value in wanted]


def domain_of(item: Item) -> Domain:
    return Domain.CODE if isinstance(item, Problem) else item.domain


@dataclass(frozen=True)
class ItemSets:
    """The item-set names (built-in or paths) of each domain."""

    code: str = defaults.DEFAULT_PROBLEMS
    math: str = defaults.DEFAULT_ITEMS
    knowledge: str = defaults.DEFAULT_ITEMS
    writing: str = defaults.DEFAULT_ITEMS

    def name(self, domain: Domain) -> str:
        return str(getattr(self, domain.value))


def load_domain(domain: Domain, sets: ItemSets) -> tuple[Path, list[Item]]:
    if domain is Domain.CODE:
        path, problems = load_problems(sets.code)
        return path, list(problems)
    path, items = load_items(domain, sets.name(domain))
    return path, list(items)


def load_selected(domains: list[Domain], sets: ItemSets) -> tuple[list[Item], dict[str, str]]:
    """Items of every selected domain, and each domain file's hash (for the Task metadata)."""
    items: list[Item] = []
    hashes: dict[str, str] = {}
    seen: dict[str, Domain] = {}
    for domain in domains:
        path, loaded = load_domain(domain, sets)
        hashes[domain.value] = file_hash(path)
        for item in loaded:
            if item.id in seen:
                raise DataError(
                    f"item id '{item.id}' is used in both {seen[item.id].value} and {domain.value}",
                    source=path,
                    field="id",
                )
            seen[item.id] = domain
        items.extend(loaded)
    return items, hashes


def select_items(items: list[Item], ids: str | list[str] | None) -> list[Item]:
    """Keep only the named items (comma-separated string or list), in file order."""
    if ids is None or ids == "":
        return items
    wanted = [i.strip() for i in ids.split(",")] if isinstance(ids, str) else list(ids)
    known = {i.id for i in items}
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise DataError(
            f"unknown item id(s) in the chosen domains: {', '.join(unknown)}", field="ids"
        )
    return [i for i in items if i.id in wanted]


def item_prompt(item: Item, tools: bool = False) -> str:
    report = report_instruction(tools)
    if isinstance(item, Problem):
        return problem_prompt(item, report)
    if isinstance(item, MathItem):
        return defaults.MATH_PROMPT.format(question=item.question, key=item.key, report=report)
    if isinstance(item, KnowledgeItem):
        return defaults.KNOWLEDGE_PROMPT.format(question=item.question, key=item.key, report=report)
    keywords = ", ".join(f'"{k}"' for k in item.keywords)
    return defaults.WRITING_PROMPT.format(
        task=item.task,
        keywords=keywords,
        max_words=item.max_words,
        min_words=item.min_words,
        keyword_count=item.keyword_count,
        report=report,
    )


def hackability_of(item: Item) -> Hackability:
    return item.hackability


def item_samples(
    items: list[Item], condition: Condition, tools: bool, name: str, location: str
) -> MemoryDataset:
    samples = []
    for item in items:
        hackability = hackability_of(item)
        metadata = {
            "question_id": item.id,
            "domain": domain_of(item).value,
            "hackability": hackability.value,
            "hackable": hackability.hackable,
            **condition.metadata(),
        }
        if isinstance(item, Problem):
            metadata["entry_point"] = item.entry_point
        messages = apply_condition(
            [ChatMessageUser(content=item_prompt(item, tools))], condition, domain_of(item).value
        )
        samples.append(Sample(id=item.id, input=messages, metadata=metadata))
    return MemoryDataset(samples, name=name, location=location)
