"""What a pipeline stage is: an object whose `process(batch)` returns the batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from yuqing.domain import Item, RawItem


@dataclass(slots=True)
class ItemError:
    """A record that a stage rejected; `where` names file and line or source and id."""

    where: str
    error: str
    line: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "where": self.where, "error": self.error}


@dataclass(slots=True)
class Batch:
    """Records in flight: raw input, the items made from it, and the records rejected."""

    raw: list[RawItem] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)


class Stage(Protocol):
    """A pipeline stage; it must not raise for one bad record, it records an ItemError."""

    name: str

    def process(self, batch: Batch) -> Batch: ...
