"""The address book: where peers of an assembly were last seen.

A small JSON file in the assembly directory, rewritten atomically (temp file, fsync,
rename), so a crash leaves either the old or the new book, never half of one::

    {"version": 1,
     "peers": [{"host": "10.0.0.7", "port": 7361, "source": "peer",
                "last_seen_ms": 1760000000000, "via": "", "failing_since_ms": 0}, ...],
     "admitted": {"hosts": ["10.0.0.7"], "devices": ["<hex>"]}}

Sources: ``static`` (configured), ``invite`` (from an invite code), ``discovery`` (mDNS),
``peer`` (a connected peer's own address), ``gossip`` (addresses a peer told us about).

Gossip is a hint from someone else, so it is held on a short leash: at most
``MAX_GOSSIP_PER_SOURCE`` addresses per peer that told us (``via``, its device), dropped when
not heard of for ``GOSSIP_MAX_AGE_MS`` or when every dial failed for ``GOSSIP_MAX_FAILING_MS``.
Static, invite and peer entries are kept. ``admitted`` remembers the hosts and devices that
completed a handshake with this node: they get reserved connection slots (``net/node.py``).

The book is capped; the least recently seen entries go first. A damaged file is not fatal:
the node starts with an empty book and logs why.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from assemblymesh.errors import StoreError
from assemblymesh.i18n import _

__all__ = [
    "BOOK_VERSION",
    "GOSSIP_MAX_AGE_MS",
    "GOSSIP_MAX_FAILING_MS",
    "MAX_ADMITTED",
    "MAX_ENTRIES",
    "MAX_GOSSIP_PER_SOURCE",
    "SOURCES",
    "AddressBook",
    "PeerAddress",
]

log = logging.getLogger("assemblymesh.net")

BOOK_VERSION = 1
MAX_ENTRIES = 256
MAX_ADMITTED = 256
MAX_GOSSIP_PER_SOURCE = 4
DAY_MS = 24 * 3600 * 1000
GOSSIP_MAX_AGE_MS = 7 * DAY_MS
GOSSIP_MAX_FAILING_MS = DAY_MS
SOURCES = frozenset({"static", "invite", "discovery", "peer", "gossip"})
_KEPT = frozenset({"static", "invite", "peer"})  # never aged out


@dataclass(slots=True)
class PeerAddress:
    host: str
    port: int
    source: str
    last_seen_ms: int
    via: str = ""  # gossip: the device (hex) of the peer that told us
    failing_since_ms: int = 0  # first failed dial of the current failure streak; 0 = none


class AddressBook:
    """Peers' addresses, keyed by (host, port). ``path`` None keeps the book in memory."""

    def __init__(self, path: Path | None, max_entries: int = MAX_ENTRIES) -> None:
        self.path = path
        self._max = max_entries
        self._entries: dict[tuple[str, int], PeerAddress] = {}
        # Insertion-ordered sets (dicts) of hosts and device keys (hex) admitted before.
        self._hosts: dict[str, None] = {}
        self._devices: dict[str, None] = {}
        if path is not None:
            self._load(path)

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("address book %s unreadable, starting empty: %s", path, exc)
            return
        peers = data.get("peers") if isinstance(data, dict) else None
        if not isinstance(peers, list) or data.get("version") != BOOK_VERSION:
            log.warning("address book %s has an unknown format, starting empty", path)
            return
        for item in peers:
            entry = _entry(item)
            if entry is not None:
                self._entries[(entry.host, entry.port)] = entry
        admitted = data.get("admitted")
        if isinstance(admitted, dict):
            for host in _strings(admitted.get("hosts")):
                self.admit_host(host)
            for device in _strings(admitted.get("devices")):
                self._devices[device] = None
            _trim(self._devices)

    def entries(self) -> list[PeerAddress]:
        """Most recently seen first."""
        return sorted(self._entries.values(), key=lambda e: -e.last_seen_ms)

    def add(self, host: str, port: int, source: str, now_ms: int, via: str = "") -> bool:
        """Record an address; return True if the book changed.

        A gossiped address is refused once ``via`` already gave ``MAX_GOSSIP_PER_SOURCE``.
        """
        if source not in SOURCES or not host or not 0 < port < 65536:
            return False
        key = (host, port)
        entry = self._entries.get(key)
        if entry is not None:
            # A configured address keeps its source; a fresher sighting updates the time.
            changed = entry.last_seen_ms < now_ms
            entry.last_seen_ms = max(entry.last_seen_ms, now_ms)
            return changed
        if source == "gossip":
            told = sum(1 for e in self._entries.values() if e.source == "gossip" and e.via == via)
            if told >= MAX_GOSSIP_PER_SOURCE:
                return False
        self._entries[key] = PeerAddress(host, port, source, now_ms, via)
        if len(self._entries) > self._max:
            oldest = min(self._entries.values(), key=lambda e: e.last_seen_ms)
            del self._entries[(oldest.host, oldest.port)]
        return True

    def failed(self, host: str, port: int, now_ms: int) -> bool:
        """A dial to ``host:port`` failed. Return False if the entry is (now) gone."""
        entry = self._entries.get((host, port))
        if entry is None:
            return False
        if not entry.failing_since_ms:
            entry.failing_since_ms = now_ms
        return not self._expired(entry, now_ms) or not self._drop(entry)

    def succeeded(self, host: str, port: int, now_ms: int) -> None:
        entry = self._entries.get((host, port))
        if entry is not None:
            entry.failing_since_ms = 0
            entry.last_seen_ms = max(entry.last_seen_ms, now_ms)

    def prune(self, now_ms: int) -> int:
        """Drop gossip and discovery entries that aged out; return how many went."""
        gone = [e for e in self._entries.values() if self._expired(e, now_ms)]
        for entry in gone:
            self._drop(entry)
        return len(gone)

    def dial_candidates(self, now_ms: int) -> list[tuple[str, int]]:
        """The addresses a starting node dials by itself: the book after ``prune``."""
        self.prune(now_ms)
        out: list[tuple[str, int]] = []
        told: dict[str, int] = {}
        for e in self.entries():
            if e.source == "gossip":
                # Also caps a book written before the per-source cap existed.
                told[e.via] = told.get(e.via, 0) + 1
                if told[e.via] > MAX_GOSSIP_PER_SOURCE:
                    continue
            out.append((e.host, e.port))
        return out

    def _expired(self, entry: PeerAddress, now_ms: int) -> bool:
        if entry.source in _KEPT:
            return False
        if now_ms - entry.last_seen_ms > GOSSIP_MAX_AGE_MS:
            return True
        return bool(entry.failing_since_ms) and now_ms - entry.failing_since_ms > (
            GOSSIP_MAX_FAILING_MS
        )

    def _drop(self, entry: PeerAddress) -> bool:
        return self._entries.pop((entry.host, entry.port), None) is not None

    # --- hosts and devices that completed a handshake ---

    def admit_host(self, host: str) -> bool:
        """Remember ``host`` as one that completed a handshake; True if it is new."""
        new = host not in self._hosts
        self._hosts.pop(host, None)
        self._hosts[host] = None  # most recent last
        _trim(self._hosts)
        return new

    def admit_device(self, device: bytes) -> bool:
        key = device.hex()
        new = key not in self._devices
        self._devices.pop(key, None)
        self._devices[key] = None
        _trim(self._devices)
        return new

    def admitted_host(self, host: str) -> bool:
        return host in self._hosts

    def admitted_device(self, device: bytes) -> bool:
        return device.hex() in self._devices

    def save(self) -> None:
        if self.path is None:
            return
        payload = json.dumps(
            {
                "version": BOOK_VERSION,
                "peers": [asdict(e) for e in self.entries()],
                "admitted": {"hosts": list(self._hosts), "devices": list(self._devices)},
            },
            indent=1,
        )
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            raise StoreError(
                _("cannot write address book {path}: {strerror}").format(
                    path=self.path, strerror=exc.strerror
                )
            ) from exc


def _entry(item: Any) -> PeerAddress | None:
    try:
        entry = PeerAddress(
            str(item["host"]), int(item["port"]), str(item["source"]),
            int(item["last_seen_ms"]), str(item.get("via", "")),
            int(item.get("failing_since_ms", 0)),
        )  # fmt: skip
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    if 0 < entry.port < 65536 and entry.source in SOURCES:
        return entry
    return None


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _trim(ordered: dict[str, None]) -> None:
    while len(ordered) > MAX_ADMITTED:
        del ordered[next(iter(ordered))]
