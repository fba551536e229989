"""Builders shared by the end-to-end tests: a clock that moves, act ids that are stable."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from assemblymesh.home import LocalAssembly


class Clock:
    """A clock a test controls: every read moves it one second on (acts never share a ts)."""

    def __init__(self, start: int = 1_760_000_000_000) -> None:
        self.now = start

    def __call__(self) -> int:
        self.now += 1000
        return self.now


def act_ids(prefix: str) -> Callable[[], str]:
    """Deterministic act ids (hex, as the model requires), distinct per ``prefix``."""
    numbers = itertools.count()
    return lambda: f"{prefix}{next(numbers):07x}"


def exchange(*nodes: LocalAssembly) -> None:
    """Every node sends every other what it lacks, in process (the network does this for
    real); nothing may be refused. As running nodes do, each then writes the boxes of the
    assembly secret it owes (a joiner's, once the join is in), and those travel too."""
    _send_all(nodes)
    if sum(node.keep_keys() for node in nodes):
        _send_all(nodes)


def _send_all(nodes: tuple[LocalAssembly, ...]) -> None:
    for src, dst in itertools.permutations(nodes, 2):
        missing = [c.data for c in src.replica.missing_for(dst.replica.vector())]
        assert not dst.replica.ingest(missing).rejected
