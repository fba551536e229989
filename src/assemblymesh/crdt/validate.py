"""One-time validation of a store written before the structural check (format 1).

Every stored change goes through the check of ``yupdate`` again. A change it refuses is
moved, with the rest of its device's chain, to the ``quarantine`` table (not applied, not
sent to peers, not counted in the vector), with a one-line warning naming device and seq.
What passes is recorded in the act log. ``meta.validated`` then marks the store, so an
ordinary open does not repeat this.
"""

from __future__ import annotations

import logging

from assemblymesh.crdt.actlog import pack_values
from assemblymesh.crdt.change import decode_stored
from assemblymesh.crdt.identity import yjs_client_id
from assemblymesh.crdt.plan import check_update
from assemblymesh.crdt.registry import doc_field
from assemblymesh.crdt.store import Store
from assemblymesh.errors import RejectedChange

__all__ = ["validate_store"]

log = logging.getLogger(__name__)


def validate_store(store: Store) -> int:
    """Validate every stored change once; returns how many were quarantined."""
    quarantined = 0
    with store.write():
        names = {i: n for n, i in store.load_docs().items()}
        devices = {r.id: r.device for r in store.load_devices()}
        refused: set[int] = set()
        acts: list[tuple[int, int, int, bytes]] = []
        for device_id, seq, doc_id, digest, data in store.all_changes():
            if device_id in refused:
                continue
            change = decode_stored(data, digest)
            try:
                checked = check_update(
                    doc_field(names[doc_id]), change.update, yjs_client_id(devices[device_id])
                )
            except RejectedChange as exc:
                refused.add(device_id)
                quarantined += store.quarantine(device_id, devices[device_id], seq, exc.detail)
                log.warning(
                    "quarantined change %s of device %s: %s",
                    seq,
                    devices[device_id].hex()[:16],
                    exc.detail,
                )
                continue
            if change.doc:
                acts.append((device_id, seq, doc_id, pack_values(checked.values)))
        store.add_acts(acts)
        if quarantined:
            store.drop_checkpoints()
        store.set_meta("validated", b"2")
    return quarantined
