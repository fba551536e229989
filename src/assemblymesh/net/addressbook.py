"""The address book: where peers of an assembly were last seen.

A small JSON file in the assembly directory, rewritten atomically (temp file, fsync,
rename), so a crash leaves either the old or the new book, never half of one::

    {"version": 1, "peers": [{"host": "10.0.0.7", "port": 7361, "source": "peer",
                              "last_seen_ms": 1760000000000}, ...]}

Sources: ``static`` (configured), ``invite`` (from an invite code), ``discovery`` (mDNS),
``peer`` (a connected peer's own address), ``gossip`` (addresses a peer told us about).
The book is capped; the least recently seen entries go first. A damaged file is not fatal:
the node starts with an empty book and logs why.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from assemblymesh.errors import StoreError

log = logging.getLogger("assemblymesh.net")

BOOK_VERSION = 1
MAX_ENTRIES = 256
SOURCES = frozenset({"static", "invite", "discovery", "peer", "gossip"})


@dataclass(slots=True)
class PeerAddress:
    host: str
    port: int
    source: str
    last_seen_ms: int


class AddressBook:
    """Peers' addresses, keyed by (host, port). ``path`` None keeps the book in memory."""

    def __init__(self, path: Path | None, max_entries: int = MAX_ENTRIES) -> None:
        self.path = path
        self._max = max_entries
        self._entries: dict[tuple[str, int], PeerAddress] = {}
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
            try:
                entry = PeerAddress(
                    str(item["host"]), int(item["port"]), str(item["source"]),
                    int(item["last_seen_ms"]),
                )  # fmt: skip
            except (KeyError, TypeError, ValueError):
                continue
            if 0 < entry.port < 65536 and entry.source in SOURCES:
                self._entries[(entry.host, entry.port)] = entry

    def entries(self) -> list[PeerAddress]:
        """Most recently seen first."""
        return sorted(self._entries.values(), key=lambda e: -e.last_seen_ms)

    def add(self, host: str, port: int, source: str, now_ms: int) -> bool:
        """Record an address; return True if the book changed."""
        if source not in SOURCES or not host or not 0 < port < 65536:
            return False
        key = (host, port)
        entry = self._entries.get(key)
        if entry is not None:
            # A configured address keeps its source; a fresher sighting updates the time.
            changed = entry.last_seen_ms < now_ms
            entry.last_seen_ms = max(entry.last_seen_ms, now_ms)
            return changed
        self._entries[key] = PeerAddress(host, port, source, now_ms)
        if len(self._entries) > self._max:
            oldest = min(self._entries.values(), key=lambda e: e.last_seen_ms)
            del self._entries[(oldest.host, oldest.port)]
        return True

    def save(self) -> None:
        if self.path is None:
            return
        payload = json.dumps(
            {"version": BOOK_VERSION, "peers": [asdict(e) for e in self.entries()]}, indent=1
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
            raise StoreError(f"cannot write address book {self.path}: {exc.strerror}") from exc
