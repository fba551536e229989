"""The model's input: what the storage layer has of each member's document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AssemblySnapshot:
    """The acts of every member document a node holds for one assembly.

    ``acts`` maps a member id (lowercase hex of the member key) to that member document's
    root ``acts`` array, in document order. Any document may be missing or behind: the fold
    works on whatever is there.
    """

    assembly_id: bytes
    acts: Mapping[str, Sequence[Mapping[str, Any]]]
