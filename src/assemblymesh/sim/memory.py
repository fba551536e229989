"""An in-memory sync link between two replicas, for the demo and for tests.

It does what a network session does, without the network: after every change one side
stores, it sends the other side what the other side lacks (``missing_for`` its vector).
"""

from __future__ import annotations

from collections.abc import Callable

from assemblymesh.crdt.replica import Replica


def pump(source: Replica, target: Replica) -> int:
    """Send ``target`` what it lacks from ``source``; returns how many changes were applied."""
    missing = [c.data for c in source.missing_for(target.vector())]
    if not missing:
        return 0
    return len(target.ingest(missing).applied)


class MemoryLink:
    """Keeps two replicas in step while it is open."""

    def __init__(self, a: Replica, b: Replica) -> None:
        self.a = a
        self.b = b
        self._busy = False
        self.sent = {id(a): 0, id(b): 0}
        self._stops: list[Callable[[], None]] = [
            a.observe(lambda _e: self._after(a, b)),
            b.observe(lambda _e: self._after(b, a)),
        ]
        self.sync()

    def _after(self, source: Replica, target: Replica) -> None:
        # Ingest on one side notifies its observers, which would pump straight back: the
        # other side has nothing new by construction, so skip the re-entrant call.
        if self._busy:
            return
        self._busy = True
        try:
            self.sent[id(source)] += pump(source, target)
        finally:
            self._busy = False

    def sync(self) -> None:
        self._after(self.a, self.b)
        self._after(self.b, self.a)

    def close(self) -> None:
        for stop in self._stops:
            stop()
        self._stops.clear()
