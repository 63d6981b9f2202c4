"""Data sets that are a YAML list of items with unique ids, as several families keep them.

A family declares its sets once as :class:`ItemSets` (where the built-in files are, the
YAML key that lists the items, the item's model) and reads a set name, path or URL with
:meth:`ItemSets.load`: every item validated on its own (an error names its line), at
least one item, no other keys, no id twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, create_model

from alignprobe.fileio import check_unique_ids, load_yaml_items
from alignprobe.sources import BuiltinData, file_sha256


class ListedItem(BaseModel):
    """An item of an :class:`ItemSets` file: its id is unique within the file."""

    id: str = Field(min_length=1)


ItemT = TypeVar("ItemT", bound=ListedItem)


@dataclass(frozen=True, kw_only=True)
class ItemSets(BuiltinData, Generic[ItemT]):
    """A family's sets of one kind of item: YAML files listing ``item`` under ``key``.

    ``noun`` names one item in the error about a repeated id ("scenario").
    """

    key: str
    item: type[ItemT]
    noun: str

    @cached_property
    def _file_model(self) -> type[BaseModel]:
        # the whole file: the list under ``key`` (not empty) and nothing else
        fields: dict[str, Any] = {self.key: (list[self.item], Field(min_length=1))}  # type: ignore[name-defined]
        model: type[BaseModel] = create_model(
            f"{self.item.__name__}File", __config__=ConfigDict(extra="forbid"), **fields
        )
        return model

    def read(self, path: Path) -> tuple[list[ItemT], list[int | None]]:
        """Every item of the file at ``path`` and its line; the whole file is refused on
        any error."""
        items, lines = load_yaml_items(path, self.key, self.item, self._file_model)
        check_unique_ids([i.id for i in items], lines, source=path, what=self.noun)
        return items, lines

    def load(self, location: str) -> tuple[list[ItemT], dict[str, str]]:
        """The items of a built-in set name, path or URL, and the file's sha256."""
        path = self.file(location)
        items, _ = self.read(path)
        return items, {location: file_sha256(path)}
