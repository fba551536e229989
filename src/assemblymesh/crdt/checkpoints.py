"""Checkpoints: each document's full state with the device heads it surely covers.

A replica opens by loading checkpoints and replaying the log after them. A checkpoint
covers a device's change only when the document provably integrated it (see
``Checkpoints.write``); the rest is replayed on open (re-applying is a no-op).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from assemblymesh.crdt.identity import yjs_client_id
from assemblymesh.crdt.registry import Registry
from assemblymesh.crdt.store import DeviceRow, Store
from assemblymesh.crdt.yupdate import decode_state_vector

__all__ = ["CHECKPOINT_EVERY", "Checkpoints"]

CHECKPOINT_EVERY = 20_000  # changes to one document between checkpoints

# Per device id: (seq, first clock) of changes not yet in a checkpoint.
_Tails = dict[int, list[tuple[int, int | None]]]


class Checkpoints:
    """What each document's next checkpoint must know. ``end_clock(device_id, seq)`` gives
    the clock after a stored change's items (or None)."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        covered: dict[int, dict[int, int]],
        end_clock: Callable[[int, int], int | None],
    ) -> None:
        self._store = store
        self._registry = registry
        self.covered = covered
        self._end_clock = end_clock
        self.tails: dict[int, _Tails] = {}
        self.uncheckpointed: dict[int, int] = {}

    def floor(self, doc_id: int, device_id: int) -> int:
        """The seq up to which the checkpoint of ``doc_id`` holds ``device_id``'s changes."""
        return self.covered.get(doc_id, {}).get(device_id, 0)

    def track(
        self, doc_id: int, device_id: int, seq: int, start: int | None, count: bool = True
    ) -> None:
        """Note an applied change (``start``: its first clock) for the next checkpoint;
        ``count=False`` when the caller counts changes per document itself (``counted``)."""
        self.tails.setdefault(doc_id, {}).setdefault(device_id, []).append((seq, start))
        if count:
            self.counted({doc_id: 1})

    def counted(self, counts: dict[int, int]) -> None:
        """``counts[doc_id]`` more changes applied to each document."""
        for doc_id, n in counts.items():
            self.uncheckpointed[doc_id] = self.uncheckpointed.get(doc_id, 0) + n
            self._registry.by_id(doc_id).revision += n

    def dirty(self) -> list[int]:
        return [d for d, n in self.uncheckpointed.items() if n]

    def due(
        self, doc_ids: Iterable[int], devices: Mapping[int, DeviceRow], own: int | None
    ) -> None:
        for doc_id in doc_ids:
            if self.uncheckpointed.get(doc_id, 0) >= CHECKPOINT_EVERY:
                self.write(doc_id, devices, own)

    def write(self, doc_id: int, devices: Mapping[int, DeviceRow], own: int | None) -> None:
        """Store the document's full state and, per device, the last change it surely holds.

        The engine leaves out of its full state any items still waiting for a dependency
        (measured: yrs drops pending structs from ``get_update()``), so a checkpoint covers
        a device's change only when the document provably integrated it: its own changes,
        and a remote change whose items end at a clock the document's state vector has
        reached (a device's items on one document have consecutive clocks, so the end is
        where its next change there starts, or, for the last one, the engine measures it).
        """
        doc = self._registry.by_id(doc_id)
        reached = decode_state_vector(doc.state_vector())
        # A device with nothing unproven on this document is covered up to its head.
        covered = {r.id: r.head_seq for r in devices.values() if r.head_seq}
        for device_id, tail in self.tails.get(doc_id, {}).items():
            client = yjs_client_id(devices[device_id].device)
            proven = 0
            for i, (seq, start) in enumerate(tail):
                if device_id == own:
                    proven = i + 1
                    continue
                if start is None:
                    break  # deletions only: nothing shows whether they are all applied
                end = tail[i + 1][1] if i + 1 < len(tail) else self._end_clock(device_id, seq)
                if end is None or reached.get(client, 0) < end:
                    break
                proven = i + 1
            del tail[:proven]
            if tail:
                covered[device_id] = tail[0][0] - 1
        self._store.save_checkpoint(doc_id, doc.full_state(), covered)
        self.covered[doc_id] = covered
        self.uncheckpointed[doc_id] = 0
