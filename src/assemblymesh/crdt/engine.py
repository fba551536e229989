"""Carrying a plan's runs out on the engine and into the store's rows.

All runs of a batch are applied interleaved by timestamp (each run stays in chain order):
interleaving by time lets most cross-device references resolve at once instead of waiting
in the engine's pending set. Any engine failure (an exception, a pyo3 ``PanicException``)
refuses that change (``bad-update``) and its device's later changes in the batch, and tells
the replica to rebuild its memory from the store once the batch is stored.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from assemblymesh.crdt.actlog import pack_values
from assemblymesh.crdt.change import SHARED_DOC, Change
from assemblymesh.crdt.identity import DeviceCertificate
from assemblymesh.crdt.registry import REMOTE_ORIGIN, doc_name
from assemblymesh.crdt.yupdate import Checked
from assemblymesh.errors import RejectReason, UsageError

if TYPE_CHECKING:
    from assemblymesh.crdt.replica import IngestResult, Replica

__all__ = ["EngineBatch"]

_Target = tuple[Callable[[Any, bytes], None], Any, int]

_Open = tuple[contextlib.AbstractContextManager[Any], _Target, int]

UPDATES_PER_TRANSACTION = 256  # bounds the engine's per-transaction memory (see _target)


class EngineBatch:
    """One batch's runs, applied to the engine and staged as store rows."""

    def __init__(self, replica: Replica, result: IngestResult) -> None:
        self._r = replica
        self._result = result
        # document -> (its open engine transaction, the target, updates applied in it)
        self._open_txns: dict[bytes, _Open] = {}
        self._doc_ids: set[int] = set()
        self._rows: list[tuple[int, int, int, bytes, bytes]] = []
        self._acts: list[tuple[int, int, int, list[object]]] = []
        self._applied: list[Change] = []
        self._cut: set[bytes] = set()
        self._counts: dict[int, int] = {}

    def apply(
        self, runs: list[list[Change]], checked: dict[bytes, Checked]
    ) -> tuple[list[Change], bool]:
        """Apply and store ``runs``; (what was applied, whether the engine failed)."""
        if not runs:
            return [], False
        try:
            for change in _by_time(runs):
                if change.device in self._cut:
                    self._refuse(change, RejectReason.BAD_CHAIN, "follows a rejected change")
                    continue
                apply, engine_txn, doc_id = self._target(change.doc)
                try:
                    apply(engine_txn, change.update)
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException:  # PanicException derives from BaseException only
                    self._refuse(change, RejectReason.BAD_UPDATE, "the CRDT update does not apply")
                    self._cut.add(change.device)
                    continue
                self._stage(change, doc_id, checked[change.hash])
        finally:
            for doc in list(self._open_txns):
                self._close(doc)
        self._store()
        return self._applied, bool(self._cut)

    def _target(self, doc: bytes) -> _Target:
        """The engine transaction for ``doc``, renewed every ``UPDATES_PER_TRANSACTION``
        updates: the engine's memory for one transaction grows with the square of the
        updates applied in it (a 10,000-change batch to one document took 2.3 GB)."""
        opened = self._open_txns.get(doc)
        if opened is not None and opened[2] >= UPDATES_PER_TRANSACTION:
            self._close(doc)
            opened = None
        if opened is None:
            opened = self._open(doc)
        self._open_txns[doc] = (opened[0], opened[1], opened[2] + 1)
        return opened[1]

    def _open(self, doc: bytes) -> _Open:
        """An engine transaction for one document, called below pycrdt's per-call wrapper
        (which opens and checks a nested transaction each time)."""
        name = doc_name(doc)
        document = self._r._registry.document(name)
        manager = document.engine_doc.transaction(origin=REMOTE_ORIGIN)
        txn = manager.__enter__()
        if txn._txn is None:
            manager.__exit__(None, None, None)
            raise UsageError("the engine transaction is already closed")
        target = (document.engine_doc._doc.apply_update, txn._txn, self._r._registry.doc_id(name))
        self._doc_ids.add(target[2])
        return manager, target, 0

    def _close(self, doc: bytes) -> None:
        manager, _, _ = self._open_txns.pop(doc)
        manager.__exit__(None, None, None)

    def _stage(self, change: Change, doc_id: int, checked: Checked) -> None:
        row = self._r._devices.get(change.device)
        if row is None:
            assert change.cert is not None
            row = self._r._register_device(DeviceCertificate.decode(change.cert))
        row.head_seq = change.seq
        row.head_hash = change.hash
        self._rows.append((row.id, change.seq, doc_id, change.hash, change.data))
        if change.doc != SHARED_DOC:
            self._acts.append((row.id, change.seq, doc_id, checked.values))
        self._r._checkpoints.track(doc_id, row.id, change.seq, checked.start, count=False)
        self._counts[doc_id] = self._counts.get(doc_id, 0) + 1
        self._applied.append(change)

    def _refuse(self, change: Change, reason: RejectReason, detail: str) -> None:
        from assemblymesh.crdt.replica import Rejection

        self._result.rejected.append(Rejection(reason, detail, None, change.device, change.seq))

    def _store(self) -> None:
        store = self._r._store
        store.insert_changes(self._rows)
        if self._acts:
            store.add_acts([(d, s, doc, pack_values(v)) for d, s, doc, v in self._acts])
            self._r._acts.added(self._acts)
        touched = {c.device: self._r._devices[c.device] for c in self._applied}
        store.set_heads([(r.id, r.head_hash, r.head_seq) for r in touched.values()])
        self._result.applied.extend(self._applied)
        self._r._checkpoints.counted(self._counts)
        self._r._checkpoints.due(self._doc_ids, self._r._devices_by_id, self._r._own_id())


def _by_time(runs: list[list[Change]]) -> list[Change]:
    order: list[tuple[int, bytes, int, Change]] = []
    for run in runs:
        # A running maximum keeps each chain in order even if its clock went backwards.
        latest = 0
        for change in run:
            if change.ts > latest:
                latest = change.ts
            order.append((latest, change.device, change.seq, change))
    # (time, device, seq) is unique, so the sort never compares the changes themselves.
    order.sort()
    return [item[3] for item in order]
