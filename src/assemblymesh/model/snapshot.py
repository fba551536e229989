"""The model's input: what the storage layer holds of each member's document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LoggedAct:
    """One value of a member document's ``acts`` log, with the change that wrote it.

    ``value`` is whatever the document holds (untrusted: the fold checks it). ``device`` is
    the hex key of the device whose *signature* covers the change, ``seq`` that change's place
    in the device's chain and ``pos`` the value's place within the change: the storage layer
    vouches for these three, the value vouches for nothing.
    """

    value: object
    device: str
    seq: int
    pos: int = 0


@dataclass(frozen=True)
class AssemblySnapshot:
    """The act logs of every member document a node holds for one assembly.

    ``acts`` maps a member id (lowercase hex of the member key) to that member document's
    logged acts. Any document may be missing or behind: the fold works on whatever is there,
    and its result does not depend on the order of the mapping or of the lists.
    """

    assembly_id: bytes
    acts: Mapping[str, Sequence[LoggedAct]]


__all__ = ["AssemblySnapshot", "LoggedAct"]
