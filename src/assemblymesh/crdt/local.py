"""Local transactions: a device's own edits, each recorded as one signed, durable change."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from assemblymesh.crdt.actlog import pack_values
from assemblymesh.crdt.change import Change
from assemblymesh.crdt.document import SHARED, Document
from assemblymesh.crdt.plan import check_update
from assemblymesh.crdt.registry import LOCAL_ORIGIN, doc_field
from assemblymesh.errors import RejectedChange, UsageError
from assemblymesh.i18n import _

if TYPE_CHECKING:
    from assemblymesh.crdt.replica import Replica

__all__ = ["LocalWrites"]


class LocalWrites:
    """The local write path of one replica."""

    def __init__(self, replica: Replica) -> None:
        self._r = replica

    @contextlib.contextmanager
    def transact(self, name: str) -> Iterator[Document]:
        r = self._r
        if name not in (SHARED, r.member_id):
            raise UsageError(
                _("a device may write only its own member's document or the shared one")
            )
        own = r._devices.get(r.device_key.public)
        if own is not None and own.equivocated:
            raise UsageError(_("this device is flagged for equivocation and may not write"))
        stored: list[Change] = []
        failure: BaseException | None = None
        fresh: list[Change] = []
        try:
            with r._store.write():
                fresh = r._refresh_locked(notify=False)
                doc = r.document(name)
                captured: list[bytes] = []
                # Observed only while writing locally: an observer makes the engine encode
                # every transaction's update, remote applies and checkpoint loads included.
                subscription = doc.engine_doc.observe(
                    lambda event: captured.append(bytes(event.update))
                )
                doc._writable = True
                try:
                    with doc.engine_doc.transaction(origin=LOCAL_ORIGIN):
                        yield doc
                except BaseException as exc:
                    failure = exc
                finally:
                    doc._writable = False
                    doc.engine_doc.unobserve(subscription)
                for update in captured:
                    stored.append(self._record(name, update))
        except BaseException:
            r._load()
            raise
        # What other processes wrote is news to observers too (the node forwards it).
        r._notify(fresh, local=False)
        r._notify(stored, local=True)
        if failure is not None:
            raise failure

    def _record(self, name: str, update: bytes) -> Change:
        r = self._r
        # Every peer checks a change against the schema and refuses the device's chain from
        # the first change it refuses, so a write outside the schema is refused here, before
        # it is signed; the store transaction rolls back and the documents reload without it.
        try:
            values = check_update(doc_field(name), update, r._client_id).values
        except RejectedChange as exc:
            raise UsageError(
                _("write refused, peers would not accept it: {detail}").format(detail=exc.detail)
            ) from exc
        own = r._devices.get(r.device_key.public)
        seq = 1 if own is None else own.head_seq + 1
        prev = b"" if own is None else own.head_hash
        change = Change.create(
            r.device_key,
            r.assembly,
            doc_field(name),
            seq,
            prev,
            r._clock(),
            update,
            r.certificate.encode() if seq == 1 else None,
        )
        if own is None:
            own = r._register_device(r.certificate)
        doc_id = r._registry.doc_id(name)
        r._store.insert_changes([(own.id, seq, doc_id, change.hash, change.data)])
        own.head_seq, own.head_hash = seq, change.hash
        r._store.set_heads([(own.id, change.hash, seq)])
        if name != SHARED:
            r._store.add_acts([(own.id, seq, doc_id, pack_values(values))])
            r._acts.added([(own.id, seq, doc_id, values)])
        r._track(doc_id, own.id, seq, update)
        r._checkpoints.due([doc_id], r._devices_by_id, own.id)
        return change
