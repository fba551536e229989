"""The attributed act log: what each member document's changes append, and who signed.

Filled from the structural check of member-document updates (``yupdate``), so nothing
reads acts out of the engine. Persisted in the store's ``act_log`` table (msgpack lists);
loaded on first use, so opening a replica does not pay for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

import msgpack

from assemblymesh.crdt.store import DeviceRow, Store

__all__ = ["ActLog", "LogEntry", "pack_values"]


class LogEntry(NamedTuple):
    """One value appended to a member document: the device that signed the change, its
    seq, and the value's position within the change."""

    value: object
    device: bytes
    seq: int
    pos: int


def pack_values(values: list[object]) -> bytes:
    packed: bytes = msgpack.packb(values, use_bin_type=True)
    return packed


class ActLog:
    """Per member document (store doc id), per device id: (seq, values) in chain order."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._entries: dict[int, dict[int, list[tuple[int, list[object]]]]] | None = None
        self.revision = 0

    def _loaded(self) -> dict[int, dict[int, list[tuple[int, list[object]]]]]:
        if self._entries is None:
            entries: dict[int, dict[int, list[tuple[int, list[object]]]]] = {}
            for device_id, seq, doc_id, packed in self._store.load_acts():
                values = msgpack.unpackb(packed, raw=False, strict_map_key=False)
                entries.setdefault(doc_id, {}).setdefault(device_id, []).append((seq, values))
            self._entries = entries
        return self._entries

    def added(self, rows: Iterable[tuple[int, int, int, list[object]]]) -> None:
        """Rows of (device_id, seq, doc_id, values) just stored."""
        if self._entries is not None:
            for device_id, seq, doc_id, values in rows:
                by_device = self._entries.setdefault(doc_id, {})
                by_device.setdefault(device_id, []).append((seq, values))
        self.revision += 1

    def forget(self) -> None:
        """Drop what is in memory (the store changed under it); reloaded on next use."""
        self._entries = None
        self.revision += 1

    def logs(
        self, names: Mapping[int, str], devices: Mapping[int, DeviceRow]
    ) -> dict[str, list[LogEntry]]:
        """Member id hex -> entries in (device, seq, pos) order, leaving out changes at or
        after a device's fork point."""
        out: dict[str, list[LogEntry]] = {}
        for doc_id, by_device in self._loaded().items():
            entries: list[LogEntry] = []
            for device_id in sorted(by_device, key=lambda d: devices[d].device):
                row = devices[device_id]
                for seq, values in by_device[device_id]:
                    if row.fork_seq and seq >= row.fork_seq:
                        break
                    entries.extend(LogEntry(v, row.device, seq, i) for i, v in enumerate(values))
            out[names[doc_id]] = entries
        return out
